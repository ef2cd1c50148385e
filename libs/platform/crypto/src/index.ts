// Envelope encryption (KMS root key -> per-organization key-encryption key -> per-inquiry data key),
// AES-256-GCM field ciphertexts and blind indexes land here with the intake work. For now the
// package holds the KMS client every consumer of it shares.
export * from './kms';
