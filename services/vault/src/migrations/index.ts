import { VaultTables1764100000000 } from './1764100000000-vault-tables';
import { TenantRows1764900000000 } from './1764900000000-tenant-rows';
import { RedactionLedger1765100000000 } from './1765100000000-redaction-ledger';

export const VAULT_MIGRATIONS = [
  VaultTables1764100000000,
  TenantRows1764900000000,
  RedactionLedger1765100000000,
];
