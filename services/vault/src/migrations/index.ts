import { VaultTables1764100000000 } from './1764100000000-vault-tables';

export const VAULT_MIGRATIONS = [VaultTables1764100000000];
