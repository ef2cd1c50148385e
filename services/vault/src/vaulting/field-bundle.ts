/**
 * The ciphertexts of one inquiry, stored together in one row: each attribute is still its own
 * AES-256-GCM ciphertext (own IV, AAD naming the attribute); the bundle only packs them, so the
 * vault writes one row per inquiry instead of one per attribute.
 *
 *   bundle  = 0x01 | entry*
 *   entry   = nameLength (u8) | name (utf-8) | ciphertextLength (u32 BE) | ciphertext
 */
const BUNDLE_V1 = 0x01;

export type FieldBundle = Map<string, Buffer>;

export function packFields(fields: FieldBundle): Buffer {
  const parts: Buffer[] = [Buffer.of(BUNDLE_V1)];
  for (const [name, ciphertext] of fields) {
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length > 255) throw new Error('attribute name too long');
    const header = Buffer.alloc(1 + nameBytes.length + 4);
    header.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(header, 1);
    header.writeUInt32BE(ciphertext.length, 1 + nameBytes.length);
    parts.push(header, ciphertext);
  }
  return Buffer.concat(parts);
}

/** Unpacks a bundle; a malformed one is reported as such (the caller treats it as an integrity failure). */
export function unpackFields(bundle: Buffer): FieldBundle {
  if (bundle[0] !== BUNDLE_V1) throw new MalformedBundleError();
  const fields: FieldBundle = new Map();
  let offset = 1;
  while (offset < bundle.length) {
    const nameLength = bundle.readUInt8(offset);
    const nameEnd = offset + 1 + nameLength;
    if (nameEnd + 4 > bundle.length) throw new MalformedBundleError();
    const name = bundle.toString('utf8', offset + 1, nameEnd);
    const length = bundle.readUInt32BE(nameEnd);
    const end = nameEnd + 4 + length;
    if (end > bundle.length) throw new MalformedBundleError();
    fields.set(name, bundle.subarray(nameEnd + 4, end));
    offset = end;
  }
  return fields;
}

export class MalformedBundleError extends Error {
  constructor() {
    super('malformed ciphertext bundle');
    this.name = 'MalformedBundleError';
  }
}
