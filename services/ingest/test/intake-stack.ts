import { createEvent, InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { freePort, ServiceProcess, testId, type TestRevealRequest, VaultCaller } from '@veil/testing';

/** vault + ingest as real processes on free ports, ingest pointed at that vault. */
export class IntakeStack {
  constructor(
    readonly vault: ServiceProcess,
    readonly ingest: ServiceProcess,
  ) {}

  static async start(
    options: { vault?: Record<string, string>; ingest?: Record<string, string> } = {},
  ): Promise<IntakeStack> {
    const vaultPort = await freePort();
    const vault = new ServiceProcess('vault', { overrides: { PORT: String(vaultPort), ...options.vault } });
    const ingest = new ServiceProcess('ingest', {
      overrides: {
        PORT: String(await freePort()),
        VAULT_URL: `http://127.0.0.1:${vaultPort}`,
        // a killed ingest's partitions move to its successor after 6 s instead of 30 s
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        ...options.ingest,
      },
    });
    const stack = new IntakeStack(vault, ingest);
    vault.start();
    ingest.start();
    await Promise.all([vault.waitReady(), ingest.waitReady()]);
    return stack;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.ingest.running ? this.ingest.stop() : undefined,
      this.vault.running ? this.vault.stop() : undefined,
    ]);
  }

  logFiles(): string[] {
    return [this.vault.logFile, this.ingest.logFile];
  }

  /** Reveals through the vault as the customer API would (its credential and a grant). */
  async reveal(request: TestRevealRequest): Promise<{ status: number; body: unknown }> {
    return new VaultCaller(this.vault).reveal(request);
  }
}

/** A complete inquiry with every attribute; `tag` makes its values unique (canaries). */
export function fullInquiry(tag: string, inquiryId = testId('inq')): InquiryCreatedV1 {
  return {
    inquiryId,
    referenceId: `ref-${tag}`,
    templateId: 'itmpl_test',
    status: 'completed',
    attributes: {
      nameFirst: `First-${tag}`,
      nameMiddle: `Middle-${tag}`,
      nameLast: `Last-${tag}`,
      birthdate: '1990-01-31',
      addressStreet1: `1 Street ${tag}`,
      addressStreet2: `Flat ${tag}`,
      addressCity: `City-${tag}`,
      addressSubdivision: 'Region',
      addressPostalCode: 'AB1 2CD',
      addressCountryCode: 'GB',
      emailAddress: `${tag.toLowerCase()}@example.com`,
      phoneNumber: '+44 20 7946 0000',
      identificationNumber: `ID-${tag}`,
      identificationType: 'passport',
      documentFiles: [`files/${tag}/front.jpg`],
      selfieFiles: [`files/${tag}/selfie.jpg`],
    },
  };
}

export function intakeEvent(organizationId: string, data: InquiryCreatedV1) {
  return createEvent(InquiryCreated, { organizationId, data, producer: 'upstream-test' });
}
