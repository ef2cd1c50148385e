import { InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { type Scope, SCOPES } from '@veil/platform/auth';
import { createServiceDataSource } from '@veil/platform/database';
import { toMessage } from '@veil/platform/kafka';
import { serviceEntry, serviceEnvironment } from '@veil/service-catalog';
import { createEvent } from '@veil/contracts';
import {
  expectEventually,
  freePort,
  ServiceProcess,
  testId,
  testKafka,
  testOrganizationId,
} from '@veil/testing';
import type { DataSource, EntityManager } from 'typeorm';

import { AccessRepository } from '../src/access/access.repository';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

/**
 * vault + ingest + audit-log + api as real processes; more api replicas can join (e.g. with
 * test-only settings). The audit log checkpoints every half second, so proofs are available soon.
 */
export class ApiStack {
  readonly apis: ServiceProcess[] = [];
  private dataSource?: DataSource;

  private constructor(
    readonly vault: ServiceProcess,
    readonly ingest: ServiceProcess,
    readonly auditLog: ServiceProcess,
    public retention: ServiceProcess,
  ) {}

  static async start(): Promise<ApiStack> {
    const vaultPort = await freePort();
    const vault = new ServiceProcess('vault', { overrides: { PORT: String(vaultPort) } });
    const ingest = new ServiceProcess('ingest', {
      overrides: { PORT: String(await freePort()), VAULT_URL: `http://127.0.0.1:${vaultPort}` },
    });
    const auditLog = new ServiceProcess('audit-log', {
      overrides: { PORT: String(await freePort()), AUDIT_CHECKPOINT_INTERVAL_MS: '500' },
    });
    const retention = ApiStack.retentionProcess(await freePort(), vaultPort);
    const stack = new ApiStack(vault, ingest, auditLog, retention);
    vault.start();
    ingest.start();
    auditLog.start();
    retention.start();
    await Promise.all([vault.waitReady(), ingest.waitReady(), auditLog.waitReady(), retention.waitReady()]);
    await stack.addApi();
    return stack;
  }

  private static retentionProcess(port: number, vaultPort: number, overrides: Record<string, string> = {}) {
    return new ServiceProcess('retention', {
      overrides: {
        PORT: String(port),
        VAULT_URL: `http://127.0.0.1:${vaultPort}`,
        RETENTION_TICK_MS: '500',
        ...overrides,
      },
    });
  }

  /**
   * Stops the retention service (SIGTERM, or SIGKILL with `kill`) and starts it again, e.g. with its
   * clock moved ahead (RETENTION_TEST_CLOCK_OFFSET_MS, test builds only). The api keeps its URL.
   */
  async restartRetention(
    overrides: Record<string, string> = {},
    how: 'stop' | 'kill' = 'stop',
  ): Promise<void> {
    if (this.retention.running) await (how === 'kill' ? this.retention.kill() : this.retention.stop());
    const port = Number(new URL(this.retention.baseUrl).port);
    this.retention = ApiStack.retentionProcess(port, Number(new URL(this.vault.baseUrl).port), overrides);
    this.retention.start();
    await this.retention.waitReady();
  }

  get api(): ServiceProcess {
    return this.apis[0]!;
  }

  async addApi(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const api = new ServiceProcess('api', {
      overrides: {
        PORT: String(await freePort()),
        VAULT_URL: this.vault.baseUrl,
        AUDIT_LOG_URL: this.auditLog.baseUrl,
        RETENTION_URL: this.retention.baseUrl,
        API_RATE_LIMIT_PER_SECOND: '100000',
        ...overrides,
      },
    });
    api.start();
    await api.waitReady();
    this.apis.push(api);
    return api;
  }

  async stop(): Promise<void> {
    await this.dataSource?.destroy();
    await Promise.allSettled(
      [...this.apis, this.ingest, this.retention, this.vault, this.auditLog]
        .filter((p) => p.running)
        .map((p) => p.stop()),
    );
  }

  logFiles(): string[] {
    return [
      this.vault.logFile,
      this.ingest.logFile,
      this.auditLog.logFile,
      this.retention.logFile,
      ...this.apis.map((a) => a.logFile),
    ];
  }

  /** The access tables, as the operator command writes them. */
  async access(): Promise<AccessRepository> {
    if (!this.dataSource) {
      const entry = serviceEntry('api');
      this.dataSource = createServiceDataSource({
        url: serviceEnvironment(entry, process.env).DATABASE_URL!,
        schema: entry.schema,
        applicationName: 'veil-test',
        poolSize: 2,
      });
      await this.dataSource.initialize();
    }
    return new AccessRepository(this.dataSource);
  }

  /** Runs `fn` in a transaction of the access tables (e.g. one held open while others commit). */
  async inTransaction<T>(fn: (access: AccessRepository, tx: EntityManager) => Promise<T>): Promise<T> {
    const access = await this.access();
    return this.dataSource!.transaction((tx) => fn(access, tx));
  }

  async organization(): Promise<{ id: string; adminKey: string }> {
    const access = await this.access();
    const id = testOrganizationId();
    await access.createOrganization(id, `Test ${id}`);
    const key = await access.createKey(this.dataSource!, id, {
      name: 'admin',
      scopes: [...SCOPES],
      createdBy: 'op_test',
    });
    return { id, adminKey: key.secret };
  }

  async key(
    organizationId: string,
    scopes: Scope[],
    expiresAt?: Date,
  ): Promise<{ keyId: string; secret: string }> {
    const key = await (
      await this.access()
    ).createKey(this.dataSource!, organizationId, {
      name: `test ${scopes.join(' ')}`,
      scopes,
      createdBy: 'op_test',
      ...(expiresAt ? { expiresAt } : {}),
    });
    // every replica picks it up within a registry refresh
    await expectEventually(async () => {
      for (const api of this.apis)
        expect(
          (await this.call('GET', '/v1/inquiries/inq_probe', key.secret, undefined, {}, api)).status,
        ).not.toBe(401);
    });
    return { keyId: key.keyId, secret: key.secret };
  }

  /** Publishes inquiries to the intake topic and waits until the API can serve them. */
  async inquiries(organizationId: string, adminKey: string, data: InquiryCreatedV1[]): Promise<void> {
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: InquiryCreated.topic.name,
      messages: data.map((d) =>
        toMessage(InquiryCreated, createEvent(InquiryCreated, { organizationId, data: d, producer: 'test' })),
      ),
    });
    await producer.disconnect();
    for (const d of data) {
      await expectEventually(
        async () =>
          expect((await this.call('GET', `/v1/inquiries/${d.inquiryId}`, adminKey)).status).toBe(200),
        {
          timeoutMs: 120_000,
        },
      );
    }
  }

  async call(
    method: string,
    path: string,
    key?: string,
    body?: unknown,
    headers: Record<string, string> = {},
    api: ServiceProcess = this.api,
  ): Promise<HttpAnswer> {
    const res = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }
}

export function inquiry(tag: string): InquiryCreatedV1 {
  return {
    inquiryId: testId('inq'),
    referenceId: `ref-${tag}`,
    templateId: 'itmpl_api',
    status: 'approved',
    attributes: {
      nameFirst: `First-${tag}`,
      nameLast: `Last-${tag}`,
      birthdate: '1990-01-31',
      addressStreet1: `1 Street ${tag}`,
      addressCity: `City-${tag}`,
      addressPostalCode: 'AB1 2CD',
      emailAddress: `mail-${tag}@example.com`,
      phoneNumber: '+44 20 7946 0000',
    },
  };
}
