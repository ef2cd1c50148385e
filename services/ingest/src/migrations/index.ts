import { Inquiries1764100000000 } from './1764100000000-inquiries';
import { DropVaultTokens1765000000000 } from './1765000000000-drop-vault-tokens';

export const INGEST_MIGRATIONS = [Inquiries1764100000000, DropVaultTokens1765000000000];
