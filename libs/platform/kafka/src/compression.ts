import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import { KAFKA_MAX_EVENT_BYTES_LIMIT } from '@veil/platform/config';
import { CompressionCodecs, CompressionTypes, type KafkaMessage } from 'kafkajs';
import { compress as lz4Compress } from 'lz4js';
import { compress as snappyCompress } from 'snappyjs';

import {
  DecompressedSizeExceeded,
  gunzipBounded,
  lz4DecodeBounded,
  snappyDecodeBounded,
  zstdDecodeBounded,
} from './decompression';

/**
 * kafkajs ships gzip only. Upstream producers are not ours and may use any codec Kafka supports,
 * so consumers register snappy, lz4 and zstd too (pure JavaScript: nothing to compile), and
 * replace kafkajs's gzip, which has no output limit. Veil's own producers do not compress.
 *
 * kafkajs decompresses a whole record batch inside its fetch, before any per-record size check
 * (protocol/recordBatch/v0/decoder.js), and an error there fails the whole fetch, which the
 * consumer then repeats forever. So a batch that would decompress past the cap is not an error
 * here: the codec hands kafkajs one placeholder record per record of the batch, at the batch's
 * own offsets, and the consumer runtime dead-letters those (payload_too_large) and moves on.
 */

/**
 * The most one record batch may decompress to: 8 records of the largest size KAFKA_MAX_EVENT_BYTES
 * may be set to (8 × 8 MiB = 64 MiB). A fixed process-wide value because kafkajs's codecs are
 * process-wide: they cannot follow the setting of one consumer.
 */
export const MAX_BATCH_DECOMPRESSED_BYTES = 8 * KAFKA_MAX_EVENT_BYTES_LIMIT;

type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd';
const CODEC_NAMES: Record<number, CodecName> = {
  [CompressionTypes.GZIP]: 'gzip',
  [CompressionTypes.Snappy]: 'snappy',
  [CompressionTypes.LZ4]: 'lz4',
  [CompressionTypes.ZSTD]: 'zstd',
};

// ---------------------------------------------------------------------------------------------
// Placeholders for a refused batch

/**
 * Record attributes of a placeholder: unused bits in Kafka's record format (producers write 0),
 * with the codec in the low bits. A producer could forge one, but only for a record with no key
 * and no value, which is dead-lettered either way.
 */
const PLACEHOLDER_MARK = 0x40;
const PLACEHOLDER_MAX_BYTES = 11; // length, attributes, timestamp delta, offset delta (≤ 5), key, value, headers

/** What a v2 record batch holds before its (compressed) records, laid out as on the wire. */
const BATCH_HEADER_BYTES = 61;
const BATCH_LENGTH_AFTER_HEADER = 49; // the batch length field counts from partitionLeaderEpoch on
const MAGIC_V2 = 2;
const CODEC_MASK = 0x07;

interface EnclosingBatch {
  lastOffsetDelta: number;
  recordCount: number;
}

/**
 * kafkajs passes a codec only the compressed records, but as a slice of the fetch response, right
 * after the batch header (kafkajs's Decoder slices, never copies: protocol/decoder.js). That
 * header is read back here, and used only if it is provably the header of these bytes: magic 2,
 * this codec, a length that ends exactly where these bytes end, and a matching CRC-32C (which
 * covers attributes..end of the batch).
 */
function enclosingBatch(records: Buffer, codec: number): EnclosingBatch | undefined {
  if (records.byteOffset < BATCH_HEADER_BYTES) return undefined;
  const header = Buffer.from(records.buffer, records.byteOffset - BATCH_HEADER_BYTES, BATCH_HEADER_BYTES);
  const batchLength = header.readInt32BE(8);
  const magic = header.readInt8(16);
  const crc = header.readUInt32BE(17);
  const attributes = header.readInt16BE(21);
  if (magic !== MAGIC_V2 || (attributes & CODEC_MASK) !== codec) return undefined;
  if (batchLength !== BATCH_LENGTH_AFTER_HEADER + records.length) return undefined;
  if (crc32c(header.subarray(21), records) !== crc) return undefined;
  return { lastOffsetDelta: header.readInt32BE(23), recordCount: header.readInt32BE(57) };
}

function writeVarInt(target: Buffer, at: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag >= 0x80) {
    target[at++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  target[at++] = zigzag;
  return at;
}

/**
 * One record per record of the batch (kafkajs reads exactly the count in the batch header), each
 * with no key, no value and no headers. Offsets: the broker assigns a batch consecutive offsets,
 * so record i sits at delta i; the last takes the batch's last offset delta, so committing past it
 * commits past the batch even where compaction left gaps.
 */
export function refusedBatchPlaceholders(records: Buffer, codec: number, limit: number): Buffer | undefined {
  const batch = enclosingBatch(records, codec);
  if (!batch) return undefined;
  const { recordCount, lastOffsetDelta } = batch;
  if (recordCount < 1 || recordCount > lastOffsetDelta + 1) return undefined;
  if (recordCount * PLACEHOLDER_MAX_BYTES > limit) return undefined;
  const out = Buffer.alloc(recordCount * PLACEHOLDER_MAX_BYTES);
  const body = Buffer.alloc(PLACEHOLDER_MAX_BYTES);
  let at = 0;
  for (let i = 0; i < recordCount; i++) {
    body[0] = PLACEHOLDER_MARK | codec; // attributes
    body[1] = 0; // timestamp delta
    let end = writeVarInt(body, 2, i === recordCount - 1 ? lastOffsetDelta : i);
    end = writeVarInt(body, end, -1); // no key
    end = writeVarInt(body, end, -1); // no value
    end = writeVarInt(body, end, 0); // no headers
    at = writeVarInt(out, at, end);
    at += body.copy(out, at, 0, end);
  }
  return out.subarray(0, at);
}

/** When `message` stands for a record of a refused batch: the batch's codec and the cap it passed. */
export function refusedBatchOf(message: KafkaMessage): { codec: CodecName; limitBytes: number } | undefined {
  if (message.key !== null || message.value !== null) return undefined;
  if ((message.attributes & ~CODEC_MASK) !== PLACEHOLDER_MARK) return undefined;
  const codec = CODEC_NAMES[message.attributes & CODEC_MASK];
  return codec ? { codec, limitBytes: activeLimit } : undefined;
}

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), the checksum of Kafka record batches

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) crc = CRC32C_TABLE[(crc ^ part[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Registration

interface Encoder {
  buffer: Buffer;
}

const gzipAsync = promisify(gzip);
let activeLimit = MAX_BATCH_DECOMPRESSED_BYTES;

function decompressOrStandIn(
  codec: number,
  decode: (input: Buffer, limit: number) => Buffer | Promise<Buffer>,
  limit: number,
): (records: Buffer) => Promise<Buffer> {
  return async (records) => {
    try {
      return await decode(records, limit);
    } catch (error) {
      if (!(error instanceof DecompressedSizeExceeded)) throw error;
      const standIn = refusedBatchPlaceholders(records, codec, limit);
      // Not inside a batch we can read back (e.g. the pre-2017 message format): the fetch fails
      // and kafkajs retries it, as for any codec error, but nothing was allocated past the cap.
      if (!standIn) throw error;
      return standIn;
    }
  };
}

/** `maxBatchDecompressedBytes` is for tests; services keep MAX_BATCH_DECOMPRESSED_BYTES. */
export function registerCompressionCodecs(maxBatchDecompressedBytes = MAX_BATCH_DECOMPRESSED_BYTES): void {
  const limit = maxBatchDecompressedBytes;
  activeLimit = limit;
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: async (encoder: Encoder) => gzipAsync(encoder.buffer),
    decompress: decompressOrStandIn(CompressionTypes.GZIP, gunzipBounded, limit),
  });
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (encoder: Encoder) => Buffer.from(snappyCompress(encoder.buffer)),
    decompress: decompressOrStandIn(CompressionTypes.Snappy, snappyDecodeBounded, limit),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => Buffer.from(lz4Compress(encoder.buffer)),
    decompress: decompressOrStandIn(CompressionTypes.LZ4, lz4DecodeBounded, limit),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async () => {
      throw new Error('Veil does not produce zstd-compressed records');
    },
    decompress: decompressOrStandIn(CompressionTypes.ZSTD, zstdDecodeBounded, limit),
  });
}
