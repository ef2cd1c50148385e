import { AccessAndReadModel1764200000000 } from './1764200000000-access-and-read-model';
import { CommitOrderedKeyChanges1764600000000 } from './1764600000000-commit-ordered-key-changes';
import { TenantRowsEverywhere1764800000000 } from './1764800000000-tenant-rows-everywhere';
import { Redactions1765100000000 } from './1765100000000-redactions';

export const API_MIGRATIONS = [
  AccessAndReadModel1764200000000,
  CommitOrderedKeyChanges1764600000000,
  TenantRowsEverywhere1764800000000,
  Redactions1765100000000,
];
