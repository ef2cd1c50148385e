import { createPublicKey, verify } from 'node:crypto';

import type { AuditEventV1 } from '../topics/audit-events';
import { isWholeNumber, parseHashHex } from './merkle';

/**
 * What the audit log stores and signs, byte for byte. An external verifier needs only this file,
 * merkle.ts and the published public key.
 */

/** Operator actions form their own chain; everything else chains per organization. */
export const OPERATOR_CHAIN = 'operator';

export function chainFor(organizationId: string, actor: AuditEventV1['actor']): string {
  return actor.type === 'operator' ? OPERATOR_CHAIN : `org:${organizationId}`;
}

/** One log entry: the audit event plus its place in the log. Never holds PII (its event cannot). */
export interface AuditLogEntry {
  v: 1;
  chain: string;
  seq: number;
  eventId: string;
  organizationId: string;
  occurredAt: string;
  /** The service that recorded the access. */
  producer: string;
  event: AuditEventV1;
}

/** JSON with object keys sorted at every level: one byte string per entry, whoever encodes it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function encodeEntry(entry: AuditLogEntry): string {
  return canonicalJson(entry);
}

/** A signed statement of a chain's size and root at a time. */
export interface Checkpoint {
  chain: string;
  treeSize: number;
  rootHash: string; // hex
  signedAt: string; // ISO 8601, UTC
  keyId: string;
  algorithm: 'ECDSA_SHA_256';
  signature: string; // base64, DER
}

/**
 * What makes a checkpoint unusable whatever its signature says (a size that is no whole number, a
 * root that is not a hash, a time that is no time), or undefined when it is well-formed. Checkpoints
 * come from outside (exports, proof answers): check them before trusting any field.
 */
export function malformedCheckpoint(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not an object';
  const c = value as Partial<Record<keyof Checkpoint, unknown>>;
  if (typeof c.chain !== 'string' || c.chain === '') return 'it names no chain';
  if (!isWholeNumber(c.treeSize)) return `its tree size ${String(c.treeSize)} is not a whole number`;
  if (!parseHashHex(c.rootHash)) return 'its root hash is not 64 hex digits';
  if (typeof c.signedAt !== 'string' || Number.isNaN(Date.parse(c.signedAt)))
    return 'its signing time is not a time';
  if (typeof c.signature !== 'string') return 'it has no signature';
  return undefined;
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(
  c: Pick<Checkpoint, 'chain' | 'treeSize' | 'rootHash' | 'signedAt'>,
): Buffer {
  return Buffer.from(
    `veil-audit-checkpoint/v1\n${c.chain}\n${c.treeSize}\n${c.rootHash}\n${c.signedAt}\n`,
    'utf8',
  );
}

/** Verifies a checkpoint signature with the published public key (PEM or DER SPKI). */
export function verifyCheckpointSignature(checkpoint: Checkpoint, publicKey: string | Buffer): boolean {
  const key =
    typeof publicKey === 'string'
      ? createPublicKey(publicKey)
      : createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
  return verify('sha256', checkpointMessage(checkpoint), key, Buffer.from(checkpoint.signature, 'base64'));
}
