import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { TOPICS } from '@veil/contracts';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';

import { readTopic } from './kafka';

export interface CanaryHit {
  canary: string;
  /** e.g. `postgres:vault.kafka_inbox`, `kafka:inquiry.recorded@2/41`, `log:ingest.log:17` */
  where: string;
}

export interface CanaryScanOptions {
  canaries: readonly string[];
  /** Admin connection; every non-system schema of its database is dumped and searched. */
  databaseUrl?: string;
  /** Restrict the database scan to these schemas (default: all but pg_catalog/information_schema). */
  schemas?: readonly string[];
  kafka?: Kafka;
  /** Topics to read in full. Default: every Veil topic that may not carry PII. */
  topics?: readonly string[];
  /** Read topics only from this time on (canaries are unique to a run; older records cannot hold them). */
  since?: Date;
  /** Log files, or directories whose files are all read. */
  logPaths?: readonly string[];
}

/** Veil topics that must never carry plaintext PII (all but the intake topic and its DLQ). */
export function piiFreeTopics(): string[] {
  return TOPICS.filter((t) => !t.carriesPii).map((t) => t.name);
}

const CANARY_MARKER = 'CANARY-';

function findIn(text: string, canaries: readonly string[], where: string, hits: CanaryHit[]): void {
  for (const canary of canaries) if (text.includes(canary)) hits.push({ canary, where });
}

/**
 * The canary scan of EVIDENCE.md: seed unique strings as PII, then look for them everywhere they
 * must not be — every table of every schema, every PII-free topic, every service log — and report
 * each hit with its location.
 */
export async function scanForCanaries(options: CanaryScanOptions): Promise<CanaryHit[]> {
  const hits: CanaryHit[] = [];
  if (options.canaries.length === 0) throw new Error('no canaries to look for');
  if (options.databaseUrl) await scanDatabase(options.databaseUrl, options, hits);
  if (options.kafka) {
    for (const topic of options.topics ?? piiFreeTopics()) {
      for (const record of await readTopic(
        options.kafka,
        topic,
        options.since ? { since: options.since } : {},
      )) {
        const text = [record.key ?? '', record.value ?? '', ...Object.entries(record.headers).flat()].join(
          '\n',
        );
        findIn(text, options.canaries, `kafka:${topic}@${record.partition}/${record.offset}`, hits);
      }
    }
  }
  for (const path of options.logPaths ?? []) scanLogs(path, options.canaries, hits);
  return hits;
}

async function scanDatabase(url: string, options: CanaryScanOptions, hits: CanaryHit[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
          and ($1::text[] is null or table_schema = any($1::text[]))`,
      [options.schemas ?? null],
    );
    // PostgreSQL does the searching (every row as text): tables can be large. Rows are first
    // filtered on a marker all canaries share, then matched against each canary. A bytea value
    // shows as hex in a row's text, so each canary (and the marker) is also looked for as hex: a
    // plaintext value in a binary column is as much a leak as one in a text column.
    const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
    const marker = options.canaries.every((c) => c.includes(CANARY_MARKER)) ? CANARY_MARKER : '';
    for (const table of tables) {
      const { rows } = await client.query<{ canary: string }>(
        `select distinct c.canary
           from (select t::text as r from ${quoteIdent(table.schema)}.${quoteIdent(table.name)} t
                  where strpos(t::text, $3) > 0 or strpos(t::text, $4) > 0) x
           cross join unnest($1::text[], $2::text[]) as c(canary, hex)
          where strpos(x.r, c.canary) > 0 or strpos(x.r, c.hex) > 0`,
        [options.canaries, options.canaries.map(hex), marker, hex(marker)],
      );
      for (const row of rows)
        hits.push({ canary: row.canary, where: `postgres:${table.schema}.${table.name}` });
    }
  } finally {
    await client.end();
  }
}

function scanLogs(path: string, canaries: readonly string[], hits: CanaryHit[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) scanLogs(join(path, name), canaries, hits);
    return;
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => findIn(line, canaries, `log:${path}:${i + 1}`, hits));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
