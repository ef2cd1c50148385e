import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '@veil/platform/config';

export type UpstreamCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** `fill`: instead of a value, `bytes` copies of one byte (`byte` is one ASCII character). */
export type UpstreamRecord = {
  key: string | null;
  headers?: Record<string, string>;
} & ({ value: string } | { fill: { byte: string; bytes: number } });

/**
 * The upstream systems' own Kafka principal (on a broker that authenticates): it may publish
 * inquiries and nothing else.
 */
export function upstreamCredentials(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.KAFKA_SECURITY_PROTOCOL !== 'sasl_ssl' || !env.VEIL_KAFKA_PASSWORD_UPSTREAM) return {};
  return { KAFKA_SASL_USERNAME: 'veil-upstream', KAFKA_SASL_PASSWORD: env.VEIL_KAFKA_PASSWORD_UPSTREAM };
}

/**
 * Publishes records the way an upstream Java service would: the official Kafka Java client
 * (libs/testing/java/UpstreamProducer.java) with the given compression codec and acks=all.
 * Resolves with "partition offset" of every acknowledged record.
 */
export async function produceWithJavaClient(
  topic: string,
  records: UpstreamRecord[],
  codec: UpstreamCodec,
): Promise<string[]> {
  const jars = join(process.env.VEIL_CACHE ?? join(REPO_ROOT, '.veil-cache'), 'kafka-libs');
  if (!existsSync(jars))
    throw new Error(`${jars} not found: "bash tools/infra.sh up kafka" fetches the Kafka client jars`);
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set');
  const child = spawn(
    'java',
    ['-cp', `${jars}/*`, join(REPO_ROOT, 'libs/testing/java/UpstreamProducer.java'), brokers, topic, codec],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...upstreamCredentials() } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(records.map((r) => JSON.stringify(r)).join('\n'));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`Java producer failed (${code}): ${err.slice(-2000)}`);
  const acks = out.trim().split('\n').filter(Boolean);
  if (acks.length !== records.length)
    throw new Error(`Java producer acknowledged ${acks.length} of ${records.length}`);
  return acks;
}
