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

/**
 * Finds which canaries a text contains in one pass over the text: every canary holds the marker,
 * so only the places where the marker occurs are compared, each against a set (cost grows with
 * the text, not with texts × canaries). The same for their hex forms (a plaintext value in a
 * binary column shows as hex in a row's text). Canaries without the marker are compared one by one.
 */
class CanaryMatcher {
  private readonly shapes = new Map<string, { before: number; length: number }>();
  private readonly known = new Set<string>();
  private readonly plain: string[] = [];
  private readonly hexMarker = Buffer.from(CANARY_MARKER, 'utf8').toString('hex');

  constructor(canaries: readonly string[]) {
    for (const canary of canaries) {
      const before = canary.indexOf(CANARY_MARKER);
      if (before < 0) {
        this.plain.push(canary);
        continue;
      }
      this.known.add(canary);
      this.shapes.set(`${before}:${canary.length}`, { before, length: canary.length });
    }
  }

  find(text: string): Set<string> {
    const found = new Set<string>();
    for (const canary of this.plain) if (text.includes(canary)) found.add(canary);
    for (let at = text.indexOf(CANARY_MARKER); at >= 0; at = text.indexOf(CANARY_MARKER, at + 1))
      for (const { before, length } of this.shapes.values()) {
        const candidate = text.slice(at - before, at - before + length);
        if (at >= before && this.known.has(candidate)) found.add(candidate);
      }
    for (let at = text.indexOf(this.hexMarker); at >= 0; at = text.indexOf(this.hexMarker, at + 1))
      for (const { before, length } of this.shapes.values()) {
        if (at < 2 * before) continue;
        const hex = text.slice(at - 2 * before, at - 2 * before + 2 * length);
        if (/^[0-9a-f]+$/.test(hex)) {
          const candidate = Buffer.from(hex, 'hex').toString('latin1');
          if (this.known.has(candidate)) found.add(candidate);
        }
      }
    return found;
  }

  /** A cheap filter every text holding a canary passes (for the database to apply). */
  get filters(): string[] {
    return this.plain.length > 0 ? [] : [CANARY_MARKER, this.hexMarker];
  }
}

function findIn(matcher: CanaryMatcher, text: string, where: string, hits: CanaryHit[]): void {
  for (const canary of matcher.find(text)) hits.push({ canary, where });
}

/**
 * The canary scan of EVIDENCE.md: seed unique strings as PII, then look for them everywhere they
 * must not be — every table of every schema, every PII-free topic, every service log — and report
 * each hit with its location.
 */
export async function scanForCanaries(options: CanaryScanOptions): Promise<CanaryHit[]> {
  const hits: CanaryHit[] = [];
  if (options.canaries.length === 0) throw new Error('no canaries to look for');
  const matcher = new CanaryMatcher(options.canaries);
  if (options.databaseUrl) await scanDatabase(options.databaseUrl, options, matcher, hits);
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
        findIn(matcher, text, `kafka:${topic}@${record.partition}/${record.offset}`, hits);
      }
    }
  }
  for (const path of options.logPaths ?? []) scanLogs(path, matcher, hits);
  return hits;
}

async function scanDatabase(
  url: string,
  options: CanaryScanOptions,
  matcher: CanaryMatcher,
  hits: CanaryHit[],
): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
          and ($1::text[] is null or table_schema = any($1::text[]))`,
      [options.schemas ?? null],
    );
    // PostgreSQL does the filtering (every row as text; tables can be large): only rows holding
    // the marker every canary shares (or its hex form) come back to be matched here.
    const filters = matcher.filters;
    for (const table of tables) {
      const where =
        filters.length > 0 ? filters.map((_, i) => `strpos(t::text, $${i + 1}) > 0`).join(' or ') : 'true';
      const { rows } = await client.query<{ r: string }>(
        `select t::text as r from ${quoteIdent(table.schema)}.${quoteIdent(table.name)} t where ${where}`,
        filters,
      );
      const found = new Set<string>();
      for (const row of rows) for (const canary of matcher.find(row.r)) found.add(canary);
      for (const canary of found) hits.push({ canary, where: `postgres:${table.schema}.${table.name}` });
    }
  } finally {
    await client.end();
  }
}

function scanLogs(path: string, matcher: CanaryMatcher, hits: CanaryHit[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) scanLogs(join(path, name), matcher, hits);
    return;
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => findIn(matcher, line, `log:${path}:${i + 1}`, hits));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
