import { MalformedBundleError, packFields, unpackFields } from './field-bundle';

describe('field bundle', () => {
  it('round-trips ciphertexts by attribute name', () => {
    const fields = new Map([
      ['nameFirst', Buffer.from([1, 2, 3])],
      ['emailAddress', Buffer.alloc(300, 7)],
    ]);
    expect(unpackFields(packFields(fields))).toEqual(fields);
  });

  it('refuses truncated or foreign bundles', () => {
    const packed = packFields(new Map([['nameFirst', Buffer.alloc(40, 1)]]));
    expect(() => unpackFields(packed.subarray(0, packed.length - 1))).toThrow(MalformedBundleError);
    expect(() => unpackFields(Buffer.from([9, 0]))).toThrow(MalformedBundleError);
  });
});
