import { decompress as zstdDecompress } from 'fzstd';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compress as lz4Compress, decompress as lz4Decompress } from 'lz4js';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappyjs';

/**
 * kafkajs ships gzip only. Upstream producers are not ours and may use any codec Kafka supports,
 * so consumers register snappy, lz4 and zstd too (pure JavaScript: nothing to compile). Veil's own
 * producers do not compress with them.
 */

// Java and librdkafka producers frame snappy the xerial way: a magic header, then
// length-prefixed raw snappy blocks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

export function snappyDecode(input: Buffer): Buffer {
  if (input.length >= 16 && input.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const blocks: Buffer[] = [];
    let offset = 16; // magic + version + compatible version
    while (offset < input.length) {
      const size = input.readInt32BE(offset);
      offset += 4;
      blocks.push(Buffer.from(snappyUncompress(input.subarray(offset, offset + size))));
      offset += size;
    }
    return Buffer.concat(blocks);
  }
  return Buffer.from(snappyUncompress(input));
}

interface Encoder {
  buffer: Buffer;
}

let registered = false;

export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (encoder: Encoder) => Buffer.from(snappyCompress(encoder.buffer)),
    decompress: async (buffer: Buffer) => snappyDecode(buffer),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => Buffer.from(lz4Compress(encoder.buffer)),
    decompress: async (buffer: Buffer) => Buffer.from(lz4Decompress(buffer)),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async () => {
      throw new Error('Veil does not produce zstd-compressed records');
    },
    decompress: async (buffer: Buffer) => Buffer.from(zstdDecompress(buffer)),
  });
}
