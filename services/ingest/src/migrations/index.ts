import { Inquiries1764100000000 } from './1764100000000-inquiries';

export const INGEST_MIGRATIONS = [Inquiries1764100000000];
