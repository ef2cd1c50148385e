import { VaultTables1764100000000 } from './1764100000000-vault-tables';
import { TenantRows1764900000000 } from './1764900000000-tenant-rows';
import { RedactionLedger1765100000000 } from './1765100000000-redaction-ledger';
import { LegalHolds1765200000000 } from './1765200000000-legal-holds';

export const VAULT_MIGRATIONS = [
  VaultTables1764100000000,
  TenantRows1764900000000,
  RedactionLedger1765100000000,
  LegalHolds1765200000000,
];
