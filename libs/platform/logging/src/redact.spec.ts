import { JsonLogger } from './json-logger';
import { REDACTED, redact } from './redact';

describe('redact', () => {
  it('redacts known PII field names at any depth and in any casing', () => {
    const out = redact({
      inquiryId: 'inq_1',
      attributes: { nameFirst: 'Ada' },
      nested: { deeper: { Email_Address: 'x', birthdate: '1815-12-10', offset: 12 } },
    });
    expect(out).toEqual({
      inquiryId: 'inq_1',
      attributes: REDACTED,
      nested: { deeper: { Email_Address: REDACTED, birthdate: REDACTED, offset: 12 } },
    });
  });

  it('redacts PII-shaped values wherever they appear, including error messages', () => {
    const out = redact({
      msg: 'could not reach ada@example.com or +44 20 7946 0000, ssn 123-45-6789',
      err: new Error('duplicate key for ada@example.com'),
    }) as { msg: string; err: { message: string } };
    expect(out.msg).toBe(`could not reach ${REDACTED} or ${REDACTED}, ssn ${REDACTED}`);
    expect(out.err.message).toBe(`duplicate key for ${REDACTED}`);
  });

  it('keeps ids, offsets and timestamps readable', () => {
    const fields = {
      eventId: '6f0c7a0e-2b1d-4c52-9a53-1b0f6f1f2a3b',
      offset: '1234567',
      at: '2026-11-25T10:00:00.000Z',
    };
    expect(redact(fields)).toEqual(fields);
  });

  it('survives cycles and buffers', () => {
    const a: Record<string, unknown> = { id: 1, raw: Buffer.from('secret bytes') };
    a.self = a;
    expect(redact(a)).toEqual({ id: 1, raw: '[12 bytes]', self: '[Circular]' });
  });
});

describe('JsonLogger', () => {
  it('writes one JSON line per call with service, level, context and redacted fields', () => {
    const lines: string[] = [];
    const logger = new JsonLogger('ingest', 'log', (line) => lines.push(line));
    logger.log(
      { msg: 'batch processed', topic: 'inquiry.created', emailAddress: 'ada@example.com' },
      'Consumer',
    );
    logger.debug('not written below the level');
    logger.error('failed for ada@example.com', 'Error: stack trace', 'Consumer');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({
      level: 'info',
      service: 'ingest',
      context: 'Consumer',
      msg: 'batch processed',
    });
    expect(first.emailAddress).toBe(REDACTED);
    const second = JSON.parse(lines[1]!);
    expect(second).toMatchObject({
      level: 'error',
      msg: `failed for ${REDACTED}`,
      stack: 'Error: stack trace',
    });
    expect(lines.join('\n')).not.toContain('ada@example.com');
  });
});

describe('redaction edge cases', () => {
  it('redacts PII-shaped keys, binary values and a PII context, and keeps its own fields', () => {
    const lines: string[] = [];
    const logger = new JsonLogger('vault', 'log', (line) => lines.push(line));
    logger.warn(
      {
        msg: 'x',
        byEmail: { 'ada@example.com': 3 },
        key: new Uint8Array([1, 2, 3]),
        level: 'debug',
        service: 'spoofed',
      },
      'ada@example.com',
    );
    const line = JSON.parse(lines[0]!);
    expect(line.byEmail).toEqual({ [REDACTED]: REDACTED });
    expect(line.key).toBe('[3 bytes]');
    expect(line.context).toBe(REDACTED);
    expect(line).toMatchObject({ level: 'warn', service: 'vault' });
    expect(lines[0]).not.toContain('ada@example.com');
  });
});
