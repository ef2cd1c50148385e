import { promisify } from 'node:util';
import { unzip } from 'node:zlib';

import { decompress as zstdDecompressFrame, Decompress as ZstdStream } from 'fzstd';
import { uncompress as snappyUncompress } from 'snappyjs';

/**
 * Decoders for the codecs Kafka producers may use, each with a limit on what it will produce.
 * A few kilobytes can legitimately expand to gigabytes (a "decompression bomb"), so every decoder
 * checks what the input declares before allocating and counts while it decompresses: no buffer
 * grows past the limit (a copy may briefly coexist with it), and CPU work stays proportional to
 * the input plus the limit.
 */

/** Refusal, not corruption: the input is well-formed as far as it was read but would pass the limit. */
export class DecompressedSizeExceeded extends Error {
  constructor(
    readonly codec: string,
    readonly limitBytes: number,
    reason: string,
  ) {
    super(`${codec}: ${reason} (limit ${limitBytes} bytes)`);
    this.name = 'DecompressedSizeExceeded';
  }
}

function malformed(codec: string, what: string): Error {
  return new Error(`${codec}: malformed input (${what})`);
}

/** An output buffer that grows on demand and refuses to grow past `limit`. */
class BoundedOutput {
  private buffer: Buffer;
  length = 0;

  constructor(
    private readonly codec: string,
    private readonly limit: number,
    expectedBytes: number,
  ) {
    this.buffer = Buffer.alloc(Math.min(limit, expectedBytes));
  }

  /** Makes room for `bytes` more, or throws before allocating anything beyond the limit. */
  reserve(bytes: number): Buffer {
    const needed = this.length + bytes;
    if (needed > this.limit)
      throw new DecompressedSizeExceeded(
        this.codec,
        this.limit,
        `output passes the limit at ${needed} bytes`,
      );
    if (needed > this.buffer.length) {
      const grown = Buffer.alloc(Math.min(this.limit, Math.max(needed, 2 * this.buffer.length)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends `length` bytes copied from `distance` bytes back (LZ77 matches may overlap themselves). */
  appendMatch(distance: number, length: number): void {
    if (distance === 0 || distance > this.length) throw malformed(this.codec, 'match before the start');
    const buffer = this.reserve(length);
    const from = this.length - distance;
    let remaining = length;
    while (remaining > 0) {
      // Each pass doubles the copied pattern, so overlapping matches take O(log length) copies.
      const chunk = Math.min(remaining, this.length - from);
      buffer.copyWithin(this.length, from, from + chunk);
      this.length += chunk;
      remaining -= chunk;
    }
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

// ---------------------------------------------------------------------------------------------
// gzip

const unzipAsync = promisify(unzip);

/** zlib stops on its own once the output would pass `maxOutputLength`. */
export async function gunzipBounded(input: Buffer, limit: number): Promise<Buffer> {
  try {
    return await unzipAsync(input, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new DecompressedSizeExceeded('gzip', limit, 'output passes the limit');
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// snappy: raw, or in the xerial framing Java and librdkafka producers use

// A magic header, two version words, then length-prefixed raw snappy blocks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

function snappyBlocks(input: Buffer): Buffer[] {
  if (input.length < XERIAL_HEADER_BYTES || !input.subarray(0, 8).equals(XERIAL_MAGIC)) return [input];
  const blocks: Buffer[] = [];
  let offset = XERIAL_HEADER_BYTES;
  while (offset < input.length) {
    if (offset + 4 > input.length) throw malformed('snappy', 'truncated block length');
    const size = input.readInt32BE(offset);
    offset += 4;
    if (size < 0 || offset + size > input.length) throw malformed('snappy', 'block length');
    blocks.push(input.subarray(offset, offset + size));
    offset += size;
  }
  return blocks;
}

/** Every raw snappy block starts with its uncompressed length as a little-endian base-128 varint. */
function snappyDeclaredLength(block: Buffer): number {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const byte = block[i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return length;
  }
  throw malformed('snappy', 'length header');
}

/** snappyjs allocates exactly the declared length, so checking the declarations bounds everything. */
export function snappyDecodeBounded(input: Buffer, limit: number): Buffer {
  const blocks = snappyBlocks(input);
  const declared = blocks.map(snappyDeclaredLength);
  const total = declared.reduce((sum, n) => sum + n, 0);
  if (total > limit) throw new DecompressedSizeExceeded('snappy', limit, `declares ${total} bytes`);
  const output = Buffer.alloc(total);
  let at = 0;
  blocks.forEach((block, i) => {
    const part = snappyUncompress(block);
    if (part.length !== declared[i]) throw malformed('snappy', 'block size');
    output.set(part, at);
    at += part.length;
  });
  return output;
}

// ---------------------------------------------------------------------------------------------
// LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
const LZ4_UNCOMPRESSED_BLOCK = 0x80000000;
const SKIPPABLE_FRAME_MASK = 0xfffffff0;
const SKIPPABLE_FRAME_MAGIC = 0x184d2a50;

interface Lz4Block {
  start: number;
  end: number;
  compressed: boolean;
}

interface Lz4Frame {
  blocks: Lz4Block[];
  blockMaxBytes: number;
  contentSize?: number;
}

function need(input: Buffer, offset: number, bytes: number, codec: string): void {
  if (offset + bytes > input.length) throw malformed(codec, 'truncated');
}

function lz4Frames(input: Buffer): Lz4Frame[] {
  const frames: Lz4Frame[] = [];
  let pos = 0;
  while (pos < input.length) {
    need(input, pos, 8, 'lz4');
    const magic = input.readUInt32LE(pos);
    if ((magic & SKIPPABLE_FRAME_MASK) >>> 0 === SKIPPABLE_FRAME_MAGIC) {
      pos += 8 + input.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw malformed('lz4', 'magic number');
    const flags = input[pos + 4]!;
    const blockMaxBytes = LZ4_BLOCK_MAX_BYTES[(input[pos + 5]! >> 4) & 7];
    if (flags >> 6 !== 1 || blockMaxBytes === undefined) throw malformed('lz4', 'frame descriptor');
    const blockChecksumBytes = flags & 0x10 ? 4 : 0;
    let p = pos + 6;
    let contentSize: number | undefined;
    if (flags & 0x08) {
      need(input, p, 8, 'lz4');
      contentSize = Number(input.readBigUInt64LE(p));
      p += 8;
    }
    if (flags & 0x01) p += 4; // dictionary id
    p += 1; // header checksum: not checked, Kafka's oldest clients computed it wrongly
    const blocks: Lz4Block[] = [];
    for (;;) {
      need(input, p, 4, 'lz4');
      const word = input.readUInt32LE(p);
      p += 4;
      if (word === 0) break; // end mark
      const size = (word & ~LZ4_UNCOMPRESSED_BLOCK) >>> 0;
      need(input, p, size + blockChecksumBytes, 'lz4');
      blocks.push({ start: p, end: p + size, compressed: (word & LZ4_UNCOMPRESSED_BLOCK) === 0 });
      p += size + blockChecksumBytes;
    }
    if (flags & 0x04) p += 4; // content checksum
    frames.push({ blocks, blockMaxBytes, ...(contentSize === undefined ? {} : { contentSize }) });
    pos = p;
  }
  return frames;
}

function lz4DecodeBlock(input: Buffer, block: Lz4Block, output: BoundedOutput): void {
  let s = block.start;
  const end = block.end;
  const readLength = (initial: number): number => {
    let length = initial;
    if (initial !== 15) return length;
    let byte: number;
    do {
      if (s >= end) throw malformed('lz4', 'truncated length');
      byte = input[s++]!;
      length += byte;
    } while (byte === 255);
    return length;
  };
  while (s < end) {
    const token = input[s++]!;
    const literals = readLength(token >> 4);
    if (s + literals > end) throw malformed('lz4', 'literals past the block');
    output.append(input.subarray(s, s + literals));
    s += literals;
    if (s === end) break; // the last sequence of a block has literals only
    if (s + 2 > end) throw malformed('lz4', 'truncated match');
    const distance = input[s]! | (input[s + 1]! << 8);
    s += 2;
    output.appendMatch(distance, readLength(token & 15) + 4);
  }
}

/**
 * Walks the block headers first: declared content sizes and stored (uncompressed) blocks are
 * exact, so most bombs are refused before anything is decoded; the rest stop at the limit.
 */
export function lz4DecodeBounded(input: Buffer, limit: number): Buffer {
  const frames = lz4Frames(input);
  let known = 0;
  let upperBound = 0;
  for (const frame of frames) {
    const stored = frame.blocks.reduce((n, b) => n + (b.compressed ? 0 : b.end - b.start), 0);
    const compressed = frame.blocks.filter((b) => b.compressed).length;
    // A declared size smaller than the stored blocks is a lie; the larger figure counts.
    known += Math.max(frame.contentSize ?? 0, stored);
    upperBound += frame.contentSize ?? stored + compressed * frame.blockMaxBytes;
  }
  if (known > limit) throw new DecompressedSizeExceeded('lz4', limit, `declares ${known} bytes`);
  const output = new BoundedOutput('lz4', limit, upperBound);
  for (const frame of frames) {
    for (const block of frame.blocks) {
      if (block.compressed) lz4DecodeBlock(input, block, output);
      else output.append(input.subarray(block.start, block.end));
    }
  }
  return output.result();
}

// ---------------------------------------------------------------------------------------------
// zstd frames (RFC 8878), decoded by fzstd

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX_BYTES = 128 << 10;
/**
 * fzstd's streaming decoder moves its whole window once per block, so a frame of many tiny (even
 * empty) blocks behind a large window costs CPU without producing output. A level-3 stream (2 MiB
 * window, 128 KiB blocks) moves 16 bytes per byte of output; 64 × the limit leaves room for the
 * smaller blocks of higher levels and keeps the worst case well under a second.
 */
const ZSTD_WINDOW_MOVES_PER_LIMIT = 64;

interface ZstdFrame {
  bytes: Buffer;
  /** From the window descriptor; a single-segment frame has none, its window is its content size. */
  windowBytes: number;
  contentSize?: number;
  /** Output of raw and RLE blocks, which their headers state exactly. */
  knownBlockBytes: number;
  compressedBlocks: number;
  blocks: number;
}

function readLittleEndian(input: Buffer, offset: number, bytes: number): number {
  let value = 0;
  for (let i = 0; i < bytes; i++) value += input[offset + i]! * 2 ** (8 * i);
  return value;
}

function zstdFrames(input: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let pos = 0;
  while (pos < input.length) {
    need(input, pos, 8, 'zstd');
    const magic = input.readUInt32LE(pos);
    if ((magic & SKIPPABLE_FRAME_MASK) >>> 0 === SKIPPABLE_FRAME_MAGIC) {
      pos += 8 + input.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw malformed('zstd', 'magic number');
    const descriptor = input[pos + 4]!;
    if (descriptor & 0x08) throw malformed('zstd', 'reserved bit');
    const singleSegment = (descriptor & 0x20) !== 0;
    let p = pos + 5;
    let windowBytes = 0;
    if (!singleSegment) {
      const exponent = input[p]! >> 3;
      const base = 2 ** (10 + exponent);
      windowBytes = base + (base / 8) * (input[p]! & 7);
      p += 1;
    }
    p += [0, 1, 2, 4][descriptor & 3]!; // dictionary id
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    let contentSize: number | undefined;
    if (contentSizeBytes > 0) {
      need(input, p, contentSizeBytes, 'zstd');
      contentSize = readLittleEndian(input, p, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
      p += contentSizeBytes;
      if (singleSegment) windowBytes = contentSize;
    }
    let knownBlockBytes = 0;
    let compressedBlocks = 0;
    let blocks = 0;
    for (let last = false; !last; blocks++) {
      need(input, p, 3, 'zstd');
      const header = readLittleEndian(input, p, 3);
      p += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw malformed('zstd', 'block type');
      if (type === 2) compressedBlocks++;
      else knownBlockBytes += size; // raw: stored as is; RLE: one byte, repeated `size` times
      const stored = type === 1 ? 1 : size;
      need(input, p, stored, 'zstd');
      p += stored;
    }
    if (descriptor & 0x04) p += 4; // content checksum
    need(input, pos, p - pos, 'zstd');
    frames.push({
      bytes: input.subarray(pos, p),
      windowBytes,
      ...(contentSize === undefined ? {} : { contentSize }),
      knownBlockBytes,
      compressedBlocks,
      blocks,
    });
    pos = p;
  }
  return frames;
}

const ZSTD_WINDOW_DESCRIPTOR_OFFSET = 5; // after the magic number and the frame header descriptor

/**
 * fzstd allocates a frame's declared window up front. Output within the limit never refers back
 * further than the limit, so a frame declaring a larger window is decoded with a copy of it that
 * declares the smallest power of two covering the limit instead.
 */
function withWindowWithin(frame: ZstdFrame, limit: number): { bytes: Buffer; windowBytes: number } {
  const log = Math.max(10, Math.ceil(Math.log2(limit)));
  if (frame.windowBytes <= 2 ** log) return { bytes: frame.bytes, windowBytes: frame.windowBytes };
  const bytes = Buffer.from(frame.bytes);
  bytes[ZSTD_WINDOW_DESCRIPTOR_OFFSET] = (log - 10) << 3;
  return { bytes, windowBytes: 2 ** log };
}

interface ZstdPlan {
  bytes: Buffer;
  /** Declares its size: fzstd decodes it in one go into exactly that many bytes. */
  oneShot: boolean;
  upperBound: number;
}

function planZstdFrame(frame: ZstdFrame, limit: number): ZstdPlan {
  if (frame.contentSize !== undefined && frame.contentSize > 0)
    return { bytes: frame.bytes, oneShot: true, upperBound: frame.contentSize };
  const { bytes, windowBytes } = withWindowWithin(frame, limit);
  if (frame.blocks * windowBytes > ZSTD_WINDOW_MOVES_PER_LIMIT * limit)
    throw new DecompressedSizeExceeded(
      'zstd',
      limit,
      `${frame.blocks} blocks behind a ${windowBytes}-byte window`,
    );
  const blockMaxBytes = Math.min(windowBytes, ZSTD_BLOCK_MAX_BYTES);
  return {
    bytes,
    oneShot: false,
    upperBound: frame.knownBlockBytes + frame.compressedBlocks * blockMaxBytes,
  };
}

/**
 * Frames that declare their size are decoded in one go. The others (Java's zstd-jni streams) go
 * through fzstd's streaming decoder, which hands over one block at a time: the output is counted
 * as it arrives.
 */
export function zstdDecodeBounded(input: Buffer, limit: number): Buffer {
  const frames = zstdFrames(input);
  // A declared size smaller than the raw and RLE blocks is a lie; the larger figure counts.
  const known = frames.reduce((n, f) => n + Math.max(f.contentSize ?? 0, f.knownBlockBytes), 0);
  if (known > limit) throw new DecompressedSizeExceeded('zstd', limit, `declares ${known} bytes`);
  const plans = frames.map((frame) => planZstdFrame(frame, limit));
  const output = new BoundedOutput(
    'zstd',
    limit,
    plans.reduce((n, plan) => n + plan.upperBound, 0),
  );
  for (const plan of plans) {
    if (plan.oneShot) output.append(zstdDecompressFrame(plan.bytes));
    else new ZstdStream((chunk) => output.append(chunk)).push(plan.bytes, true);
  }
  return output.result();
}
