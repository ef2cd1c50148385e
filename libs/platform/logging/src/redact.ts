/**
 * PII redaction applied by the logger itself, so that a careless log line cannot leak.
 * Two nets: field names known to hold PII (whatever their nesting), and value shapes that
 * look like PII wherever they appear (e-mail addresses, phone numbers, national id numbers).
 */
export const REDACTED = '[REDACTED]';

const PII_FIELD_NAMES = new Set(
  [
    'name',
    'firstname',
    'middlename',
    'lastname',
    'fullname',
    'namefirst',
    'namemiddle',
    'namelast',
    'birthdate',
    'dateofbirth',
    'dob',
    'address',
    'addressstreet1',
    'addressstreet2',
    'addresscity',
    'addresssubdivision',
    'addresspostalcode',
    'street',
    'street1',
    'street2',
    'postalcode',
    'zip',
    'email',
    'emailaddress',
    'phone',
    'phonenumber',
    'identificationnumber',
    'idnumber',
    'ssn',
    'nationalid',
    'passportnumber',
    'referenceid',
    'documentfiles',
    'selfiefiles',
    'attributes',
    'plaintext',
    'value',
    'payload',
    'body',
    'password',
    'secret',
    'apikey',
    'authorization',
    'datakey',
    'token',
  ].map(normalize),
);

const VALUE_PATTERNS: readonly RegExp[] = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, // e-mail addresses
  /\+\d[\d ().-]{6,}\d/g, // international phone numbers
  /\b\d{3}-\d{2}-\d{4}\b/g, // US SSN shape
];

function normalize(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isPiiFieldName(key: string): boolean {
  return PII_FIELD_NAMES.has(normalize(key));
}

export function redactString(value: string): string {
  let out = value;
  for (const pattern of VALUE_PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

/** Returns a deep copy of `value` safe to log. Cycles and depth are bounded. */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[Truncated]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactString(value.message),
      ...(value.stack ? { stack: redactString(value.stack) } : {}),
    };
  }
  // Any binary: a Buffer, or a Uint8Array such as a KMS plaintext data key from the AWS SDK.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Keys are data too (a map keyed by e-mail address): they get the same value patterns.
    const safeKey = redactString(key);
    out[safeKey] = isPiiFieldName(key) || safeKey !== key ? REDACTED : redact(item, depth + 1, seen);
  }
  return out;
}
