import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { type Checkpoint, checkpointMessage } from '@veil/contracts';

/** Signs checkpoints with the KMS asymmetric key (ECDSA P-256, SHA-256); the private key never leaves KMS. */
export class CheckpointSigner {
  private publicKey?: Promise<{ keyId: string; pem: string }>;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyAlias: string,
  ) {}

  async sign(
    unsigned: Pick<Checkpoint, 'chain' | 'treeSize' | 'rootHash' | 'signedAt'>,
  ): Promise<Checkpoint> {
    const answer = await this.kms.send(
      new SignCommand({
        KeyId: this.keyAlias,
        Message: checkpointMessage(unsigned),
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!answer.Signature || !answer.KeyId) throw new Error('KMS returned no signature');
    return {
      ...unsigned,
      keyId: answer.KeyId,
      algorithm: 'ECDSA_SHA_256',
      signature: Buffer.from(answer.Signature).toString('base64'),
    };
  }

  /** The public half, as PEM, for verifiers (cached: it does not change for a key). */
  publicKeyPem(): Promise<{ keyId: string; pem: string }> {
    this.publicKey ??= this.kms
      .send(new GetPublicKeyCommand({ KeyId: this.keyAlias }))
      .then((answer) => {
        if (!answer.PublicKey || !answer.KeyId) throw new Error('KMS returned no public key');
        const der = Buffer.from(answer.PublicKey).toString('base64');
        const lines = der.match(/.{1,64}/g)!.join('\n');
        return {
          keyId: answer.KeyId,
          pem: `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`,
        };
      })
      .catch((error: unknown) => {
        this.publicKey = undefined;
        throw error;
      });
    return this.publicKey;
  }
}
