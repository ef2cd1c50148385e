import { constants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import { compress as lz4Compress } from 'lz4js';
import { compress as snappyCompress } from 'snappyjs';

import {
  compressWith,
  type TestCodec,
  xerialSnappy,
  zstdCompressedBlocksBomb,
  zstdFrame,
  zstdRleBomb,
} from '../test/fixtures/compressed';
import {
  DecompressedSizeExceeded,
  gunzipBounded,
  lz4DecodeBounded,
  snappyDecodeBounded,
  zstdDecodeBounded,
} from './decompression';

const KiB = 1024;
const MiB = 1024 * KiB;

const DECODERS: Record<TestCodec, (input: Buffer, limit: number) => Buffer | Promise<Buffer>> = {
  gzip: gunzipBounded,
  snappy: snappyDecodeBounded,
  lz4: lz4DecodeBounded,
  zstd: zstdDecodeBounded,
};
const CODECS = Object.keys(DECODERS) as TestCodec[];

/** Realistic records: JSON-ish text, compressible but not trivially. */
function sampleData(bytes: number): Buffer {
  const parts: string[] = [];
  for (let size = 0; size < bytes;) {
    const line = `{"eventId":"${randomBytes(8).toString('hex')}","nameFirst":"Ada","seq":${parts.length}}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Runs `work` and reports the largest Buffer it asked for (the decoders allocate through Buffer). */
async function largestAllocation(work: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  const alloc = Buffer.alloc.bind(Buffer);
  const spy = jest.spyOn(Buffer, 'alloc').mockImplementation((size, fill, encoding) => {
    largest = Math.max(largest, size);
    return alloc(size, fill, encoding);
  });
  try {
    await work().catch(() => undefined);
  } finally {
    spy.mockRestore();
  }
  return largest;
}

describe.each(CODECS)('%s, bounded', (codec) => {
  const decode = async (input: Buffer, limit: number) => DECODERS[codec](input, limit);

  it('round-trips ordinary data', async () => {
    const data = sampleData(300 * KiB);
    expect((await decode(compressWith(codec, data), 64 * MiB)).equals(data)).toBe(true);
  });

  it('round-trips an empty payload', async () => {
    expect((await decode(compressWith(codec, Buffer.alloc(0)), 1024)).length).toBe(0);
  });

  it('accepts output of exactly the limit and refuses one byte more', async () => {
    const data = sampleData(100 * KiB + 7);
    const compressed = compressWith(codec, data);
    expect((await decode(compressed, data.length)).equals(data)).toBe(true);
    await expect(decode(compressed, data.length - 1)).rejects.toBeInstanceOf(DecompressedSizeExceeded);
  });

  it('refuses a bomb (16 MiB of one byte) without allocating past the limit', async () => {
    const bomb = compressWith(codec, Buffer.alloc(16 * MiB, 'x'));
    expect(bomb.length).toBeLessThan(MiB);
    await expect(decode(bomb, MiB)).rejects.toMatchObject({
      name: 'DecompressedSizeExceeded',
      codec,
      limitBytes: MiB,
    });
    expect(await largestAllocation(() => decode(bomb, MiB))).toBeLessThanOrEqual(MiB);
  });

  it('tells corrupt input apart from a refusal', async () => {
    const compressed = compressWith(codec, sampleData(64 * KiB));
    // Cut inside the last block: a cut halfway could fall on a block boundary of a framed format,
    // which is a valid, shorter stream (a flake seen once in CI).
    const truncated = compressed.subarray(0, compressed.length - 1);
    const error: unknown = await Promise.resolve()
      .then(() => decode(truncated, 64 * MiB))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toHaveProperty('message'); // zlib's errors come from another realm than jest's Error
    expect(error).not.toBeInstanceOf(DecompressedSizeExceeded);
  });
});

describe('refusal before decoding, from what the input declares', () => {
  it('zstd: 5 GiB of RLE blocks in 160 KB, more than a Buffer can hold', async () => {
    const bomb = zstdRleBomb(0x78, 5 * 1024 * MiB);
    expect(5 * 1024 * MiB).toBeGreaterThan(constants.MAX_LENGTH);
    expect(bomb.length).toBeLessThan(200 * KiB);
    const started = Date.now();
    expect(() => zstdDecodeBounded(bomb, 64 * MiB)).toThrow(/declares 5368709120 bytes/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('zstd: a declared content size over the limit', () => {
    const frame = zstdFrame(Buffer.alloc(10, 1), { declareSize: 3 * 1024 * MiB });
    expect(() => zstdDecodeBounded(frame, 64 * MiB)).toThrow(DecompressedSizeExceeded);
  });

  it('zstd: a declared size smaller than the blocks it holds counts the blocks', () => {
    const frame = zstdFrame(Buffer.alloc(2 * MiB, 1), { declareSize: 10 });
    expect(() => zstdDecodeBounded(frame, MiB)).toThrow(/declares 2097152 bytes/);
  });

  it('zstd: a declared window larger than the limit is not allocated (output within it still decodes)', () => {
    const frame = zstdCompressedBlocksBomb(0x78, 2, 30); // a 1 GiB window
    expect(zstdDecodeBounded(frame, MiB).equals(Buffer.alloc(256 * KiB, 0x78))).toBe(true);
    expect(() => zstdDecodeBounded(zstdCompressedBlocksBomb(0x78, 9, 30), MiB)).toThrow(
      /output passes the limit/,
    );
  });

  it('zstd: many blocks behind a large window (fzstd moves the window once per block)', () => {
    // 100 000 empty raw blocks: no output at all, but 100 000 moves of an 8 MiB window.
    const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (23 - 10) << 3]);
    const empty = Buffer.from([0x00, 0x00, 0x00]);
    const last = Buffer.from([0x01, 0x00, 0x00]);
    const frame = Buffer.concat([header, ...Array<Buffer>(99_999).fill(empty), last]);
    const started = Date.now();
    expect(() => zstdDecodeBounded(frame, 64 * MiB)).toThrow(/100000 blocks/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('snappy: a raw block declaring 4 GiB', () => {
    const block = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect(() => snappyDecodeBounded(block, 64 * MiB)).toThrow(/declares 4294967295 bytes/);
  });

  it('snappy: xerial blocks whose declared lengths add up past the limit', async () => {
    const bomb = xerialSnappy(Buffer.alloc(4 * MiB, 'x'));
    expect(await largestAllocation(async () => snappyDecodeBounded(bomb, MiB))).toBe(0);
    expect(() => snappyDecodeBounded(bomb, MiB)).toThrow(/declares 4194304 bytes/);
  });

  it('lz4: a frame declaring its content size', () => {
    const frame = Buffer.from(lz4Compress(Buffer.alloc(1000, 'x')));
    // Set the content-size flag and splice an 8-byte size (5 GiB) in after the descriptor.
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(5n * 1024n * BigInt(MiB));
    const declared = Buffer.concat([
      frame.subarray(0, 4),
      Buffer.from([frame[4]! | 0x08, frame[5]!]),
      size,
      frame.subarray(6),
    ]);
    expect(() => lz4DecodeBounded(declared, 64 * MiB)).toThrow(/declares 5368709120 bytes/);
  });
});

describe('refusal while decoding, when nothing is declared', () => {
  it('zstd: compressed blocks (as a Java stream has) stop at the limit', async () => {
    const bomb = zstdCompressedBlocksBomb(0x78, 1024, 17); // 128 MiB in 8 KB
    expect(bomb.length).toBeLessThan(10 * KiB);
    expect(await largestAllocation(async () => zstdDecodeBounded(bomb, 16 * MiB))).toBeLessThanOrEqual(
      16 * MiB,
    );
    expect(() => zstdDecodeBounded(bomb, 16 * MiB)).toThrow(/output passes the limit/);
  });

  it('zstd: the same blocks under the limit decode', () => {
    const frame = zstdCompressedBlocksBomb(0x78, 4);
    expect(zstdDecodeBounded(frame, MiB).equals(Buffer.alloc(512 * KiB, 0x78))).toBe(true);
  });

  it('lz4: one block with a 16 MiB match stops at the limit', async () => {
    // token: 1 literal, match length 15 + extension; literal 'x'; offset 1; 65 793 × 0xff.
    const extension = Buffer.alloc(65_793, 0xff);
    const block = Buffer.concat([Buffer.from([0x1f, 0x78, 0x01, 0x00]), extension, Buffer.from([0x00])]);
    const blockSize = Buffer.alloc(4);
    blockSize.writeUInt32LE(block.length);
    // magic, FLG (version 1, independent blocks), BD (4 MiB blocks), header checksum (unchecked)
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x00]),
      blockSize,
      block,
      Buffer.alloc(4),
    ]);
    expect(await largestAllocation(async () => lz4DecodeBounded(frame, MiB))).toBeLessThanOrEqual(MiB);
    expect(() => lz4DecodeBounded(frame, MiB)).toThrow(/output passes the limit/);
    expect(lz4DecodeBounded(frame, 32 * MiB).length).toBe(1 + 65_793 * 255 + 15 + 4);
  });

  it('gzip: concatenated members (5 GiB in 5 MB) stop at the limit', async () => {
    const member = gzipSync(Buffer.alloc(64 * MiB));
    const bomb = Buffer.concat(Array<Buffer>(80).fill(member));
    const started = Date.now();
    await expect(gunzipBounded(bomb, MiB)).rejects.toBeInstanceOf(DecompressedSizeExceeded);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('formats other clients write', () => {
  it('zstd: several frames, with and without a declared size', () => {
    const a = sampleData(200 * KiB);
    const b = Buffer.alloc(300 * KiB, 7);
    const input = Buffer.concat([zstdFrame(a, { declareSize: a.length }), zstdFrame(b)]);
    expect(zstdDecodeBounded(input, MiB).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('snappy: a raw block (no xerial framing)', () => {
    const data = sampleData(50 * KiB);
    expect(snappyDecodeBounded(Buffer.from(snappyCompress(data)), MiB).equals(data)).toBe(true);
  });

  it('lz4: frames with 64 KiB linked blocks decode across block boundaries', () => {
    // lz4js writes independent 4 MiB blocks; a match reaching into the previous block must work too.
    const literal = Buffer.from('abcdefgh');
    const first = Buffer.concat([Buffer.from([0x80]), literal]); // 8 literals, end of block
    const second = Buffer.from([0x04, 0x08, 0x00]); // no literals, match of 8 at distance 8
    const sizes = [first, second].map((b) => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE(b.length);
      return size;
    });
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00]), // linked blocks, 64 KiB
      sizes[0]!,
      first,
      sizes[1]!,
      second,
      Buffer.alloc(4),
    ]);
    expect(lz4DecodeBounded(frame, MiB).toString()).toBe('abcdefghabcdefgh');
  });
});
