import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';

export { KMSClient };
import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  Injectable,
} from '@nestjs/common';
import { HealthRegistry } from '@veil/platform/observability';

export interface KmsOptions {
  region: string;
  /** Unset: real AWS KMS in `region`, with the normal AWS credential chain. */
  endpoint?: string;
  /** Alias of the key this service depends on; readiness checks that it exists and is enabled. */
  keyAlias: string;
}

export const KMS_OPTIONS = Symbol('KMS_OPTIONS');

/** The same client talks to local-kms and to AWS KMS; only the endpoint differs. */
export function createKmsClient(options: KmsOptions): KMSClient {
  return new KMSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 3,
    // Bounded: a KMS that hangs must fail the call (and be retried) rather than hold a batch forever.
    requestHandler: { requestTimeout: 5_000, connectionTimeout: 2_000 },
  });
}

/** Ready when the root key exists and is enabled: a cheap call that proves endpoint and credentials. */
export async function checkRootKey(client: KMSClient, alias: string): Promise<void> {
  const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: alias }));
  if (!KeyMetadata?.Enabled) throw new Error(`KMS key ${alias} is not enabled`);
}

@Injectable()
class KmsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(KMSClient) private readonly client: KMSClient) {}
  onApplicationShutdown(): void {
    this.client.destroy();
  }
}

@Global()
@Module({})
export class KmsModule {
  static forRoot(options: KmsOptions): DynamicModule {
    return {
      module: KmsModule,
      providers: [
        { provide: KMS_OPTIONS, useValue: options },
        {
          provide: KMSClient,
          inject: [HealthRegistry],
          useFactory: (health: HealthRegistry) => {
            const client = createKmsClient(options);
            health.register('kms', () => checkRootKey(client, options.keyAlias));
            return client;
          },
        },
        KmsLifecycle,
      ],
      exports: [KMSClient, KMS_OPTIONS],
    };
  }
}
