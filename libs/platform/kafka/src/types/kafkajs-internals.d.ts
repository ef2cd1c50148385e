// Typings for the kafkajs 2.2.4 internals the codec tests run a fetch response through, so that a
// kafkajs upgrade that changes how codecs are called fails a unit test (see compression.ts).
declare module 'kafkajs/src/protocol/decoder' {
  class Decoder {
    constructor(buffer: Buffer);
  }
  export = Decoder;
}

declare module 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages' {
  import type Decoder = require('kafkajs/src/protocol/decoder');

  interface DecodedRecord {
    offset: string;
    key: Buffer | null;
    value: Buffer | null;
    attributes: number;
    timestamp: string;
    headers: Record<string, Buffer | Buffer[]>;
  }
  function decodeMessages(decoder: Decoder): Promise<DecodedRecord[]>;
  export = decodeMessages;
}

declare module 'kafkajs/src/protocol/recordBatch/crc32C' {
  function crc32C(buffer: Buffer): number;
  export = crc32C;
}
