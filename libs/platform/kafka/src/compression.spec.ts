import { randomBytes } from 'node:crypto';

import { CompressionCodecs, CompressionTypes, type KafkaMessage } from 'kafkajs';
import Decoder from 'kafkajs/src/protocol/decoder';
import decodeMessages from 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages';
import kafkajsCrc32c from 'kafkajs/src/protocol/recordBatch/crc32C';

import {
  CODEC_TYPES,
  compressWith,
  encodeRecords,
  fetchedRecordSet,
  recordBatch,
  type TestCodec,
} from '../test/fixtures/compressed';
import { crc32c, refusedBatchOf, registerCompressionCodecs } from './compression';
import { DecompressedSizeExceeded } from './decompression';

const LIMIT = 64 * 1024;

/** `count` records whose values total `valueBytes` of one repeated byte: tiny once compressed. */
function records(count: number, valueBytes: number, tag = 'x'): Buffer {
  return encodeRecords(
    Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.alloc(Math.floor(valueBytes / count), tag),
    })),
  );
}

function batch(codec: TestCodec, firstOffset: bigint, count: number, body: Buffer): Buffer {
  return recordBatch({
    firstOffset,
    codec: CODEC_TYPES[codec],
    recordCount: count,
    records: compressWith(codec, body),
    crc32c: kafkajsCrc32c,
  });
}

/** What kafkajs 2.2.4 does with the record set of one partition in a fetch response. */
function fetch(recordSet: Buffer) {
  return decodeMessages(new Decoder(recordSet));
}

describe('kafkajs codecs with a decompression cap', () => {
  beforeAll(() => registerCompressionCodecs(LIMIT));

  it('computes the CRC-32C Kafka batches carry (as kafkajs does)', () => {
    const data = randomBytes(10_000);
    expect(crc32c(data)).toBe(kafkajsCrc32c(data));
    expect(crc32c(data.subarray(0, 3000), data.subarray(3000))).toBe(kafkajsCrc32c(data));
  });

  it.each<TestCodec>(['gzip', 'snappy', 'lz4', 'zstd'])(
    '%s: a batch over the cap becomes placeholders at its offsets; the batch after it is read as usual',
    async (codec) => {
      const bomb = batch(codec, 100n, 3, records(3, 3 * LIMIT));
      expect(bomb.length).toBeLessThan(LIMIT / 2);
      const normal = batch(codec, 103n, 2, records(2, 200, 'n'));

      const messages = await fetch(fetchedRecordSet([bomb, normal]));

      expect(messages.map((m) => m.offset)).toEqual(['100', '101', '102', '103', '104']);
      for (const placeholder of messages.slice(0, 3)) {
        expect(placeholder).toMatchObject({ key: null, value: null, headers: {} });
        expect(refusedBatchOf(placeholder as KafkaMessage)).toEqual({ codec, limitBytes: LIMIT });
      }
      for (const record of messages.slice(3)) {
        expect(refusedBatchOf(record as KafkaMessage)).toBeUndefined();
        expect(record.value?.toString()).toBe('n'.repeat(100));
      }
    },
  );

  it('a batch exactly at the cap is read', async () => {
    const body = records(1, LIMIT - 20);
    const exact = Buffer.concat([body, Buffer.alloc(LIMIT - body.length)]);
    // kafkajs reads one record and ignores the padding; the codec sees exactly LIMIT bytes.
    const messages = await fetch(fetchedRecordSet([batch('zstd', 7n, 1, exact)]));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.value?.length).toBe(Math.floor(LIMIT - 20));
    const over = Buffer.concat([exact, Buffer.alloc(1)]);
    const refused = await fetch(fetchedRecordSet([batch('zstd', 7n, 1, over)]));
    expect(refusedBatchOf(refused[0] as KafkaMessage)).toBeDefined();
  });

  it('a bomb of one huge record (as a Java producer sends it) covers exactly its one offset', async () => {
    const bomb = batch('zstd', 41n, 1, records(1, 64 * LIMIT));
    const messages = await fetch(fetchedRecordSet([bomb]));
    expect(messages.map((m) => [m.offset, refusedBatchOf(m as KafkaMessage)?.codec])).toEqual([
      ['41', 'zstd'],
    ]);
  });

  it('trusts no header it cannot verify: a bad CRC fails the fetch as any codec error does', async () => {
    const bomb = batch('lz4', 0n, 2, records(2, 4 * LIMIT));
    bomb.writeUInt8(bomb[17]! ^ 0xff, 17); // first byte of the CRC
    await expect(fetch(fetchedRecordSet([bomb]))).rejects.toBeInstanceOf(DecompressedSizeExceeded);
  });

  it('refuses outright when the bytes are not inside a record batch', async () => {
    const codec = CompressionCodecs[CompressionTypes.GZIP]() as {
      decompress: (buffer: Buffer) => Promise<Buffer>;
    };
    const detached = Buffer.from(compressWith('gzip', Buffer.alloc(4 * LIMIT)));
    await expect(codec.decompress(detached)).rejects.toBeInstanceOf(DecompressedSizeExceeded);
    const small = compressWith('gzip', Buffer.from('hello'));
    expect((await codec.decompress(small)).toString()).toBe('hello');
  });
});
