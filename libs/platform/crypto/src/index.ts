// Envelope encryption: KMS root key -> per-organization key-encryption key (GenerateDataKey,
// cached, recovered with Decrypt) -> per-inquiry data key wrapped locally -> one AES-256-GCM
// ciphertext per attribute. Blind indexes for equality search.
export * from './envelope-format';
export * from './kms';
export * from './kms-keys';
