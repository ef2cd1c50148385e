import { createHmac } from 'node:crypto';

import { PII_ATTRIBUTES, type PiiAttribute } from '@veil/contracts';
import { associatedData } from '@veil/platform/crypto';

/**
 * Vault tokens name one attribute of one inquiry without revealing anything: a keyed HMAC (the
 * organization's index key) of organization and inquiry, then a short code for the attribute.
 * Deterministic, so the vault keeps no token table and an idempotent re-store returns the same
 * tokens; opaque to anyone without the key. One HMAC per inquiry, not per attribute.
 */
export function vaultTokens(
  indexKey: Buffer,
  organizationId: string,
  inquiryId: string,
  attributes: Iterable<PiiAttribute>,
): Partial<Record<PiiAttribute, string>> {
  const seed = createHmac('sha256', indexKey)
    .update(associatedData('veil/token/v1', [organizationId, inquiryId]))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
  const tokens: Partial<Record<PiiAttribute, string>> = {};
  for (const attribute of attributes) {
    tokens[attribute] = `vt_${seed}${PII_ATTRIBUTES.indexOf(attribute).toString(36).padStart(2, '0')}`;
  }
  return tokens;
}
