import { AccessAndReadModel1764200000000 } from './1764200000000-access-and-read-model';

export const API_MIGRATIONS = [AccessAndReadModel1764200000000];
