import { packFields, unpackFields } from '../src/vaulting/field-bundle';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

import { type AccessGrant, grantKey, signGrant } from '@veil/platform/auth';
import {
  adminQuery,
  expectEventually,
  freePort,
  ServiceProcess,
  testId,
  testOrganizationId,
  VaultCaller,
} from '@veil/testing';

jest.setTimeout(180_000);

interface Revealed {
  inquiryId: string;
  found: boolean;
  redacted: boolean;
  attributes: Record<string, unknown>;
}

class VaultApi {
  readonly caller: VaultCaller;
  constructor(readonly vault: ServiceProcess) {
    this.caller = new VaultCaller(vault);
  }

  async store(
    organizationId: string,
    inquiries: { inquiryId: string; values: Record<string, string | string[]> }[],
  ) {
    const res = await this.caller.store(inquiries.map((i) => ({ organizationId, ...i })));
    expect(res.status).toBe(200);
    return res.body.results as { organizationId: string; inquiryId: string; created: boolean }[];
  }

  reveal(
    organizationId: string,
    inquiryIds: string[],
    attributes: string[] = ['nameFirst', 'nameLast', 'emailAddress'],
    requestId?: string,
  ) {
    return this.caller.reveal({
      organizationId,
      inquiryIds,
      attributes,
      purpose: 'vault integration test',
      ...(requestId ? { requestId } : {}),
    });
  }
}

function values(tag: string): Record<string, string> {
  return { nameFirst: `Ada-${tag}`, nameLast: `Lovelace-${tag}`, emailAddress: `ada-${tag}@example.com` };
}

async function startVault(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
  const vault = new ServiceProcess('vault', { overrides: { PORT: String(await freePort()), ...overrides } });
  vault.start();
  await vault.waitReady();
  return vault;
}

describe('vault: ciphertext integrity', () => {
  let vault: ServiceProcess;
  let api: VaultApi;

  beforeAll(async () => {
    vault = await startVault();
    api = new VaultApi(vault);
  });
  afterAll(async () => {
    await vault?.stop();
  });

  // Tampering happens the way an attacker with database access would do it: rewriting stored bytes.
  async function bundle(org: string, inquiryId: string): Promise<Map<string, Buffer>> {
    const [row] = await adminQuery<{ bundle: Buffer }>(
      'select bundle from vault.encrypted_fields where organization_id = $1 and inquiry_id = $2',
      [org, inquiryId],
    );
    return unpackFields(row!.bundle);
  }

  async function ciphertext(org: string, inquiryId: string, attribute: string): Promise<Buffer> {
    return Buffer.from((await bundle(org, inquiryId)).get(attribute)!);
  }

  async function overwrite(org: string, inquiryId: string, attribute: string, bytes: Buffer): Promise<void> {
    const fields = await bundle(org, inquiryId);
    fields.set(attribute, bytes);
    await adminQuery(
      'update vault.encrypted_fields set bundle = $3 where organization_id = $1 and inquiry_id = $2',
      [org, inquiryId, packFields(fields)],
    );
  }

  async function expectIntegrityFailure(org: string, inquiryId: string): Promise<void> {
    const before = await integrityAudits(org);
    const res = await api.reveal(org, [inquiryId]);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'ciphertext_integrity' });
    expect(JSON.stringify(res.body)).not.toMatch(/Ada-|Lovelace-|@example\.com/);
    await expectEventually(async () => expect(await integrityAudits(org)).toBe(before + 1));
  }

  async function integrityAudits(org: string): Promise<number> {
    const [row] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from vault.outbox
        where organization_id = $1 and topic = 'audit.events' and payload::jsonb -> 'data' ->> 'action' = 'pii.integrity_failure'`,
      [org],
    );
    return row!.n;
  }

  it('reveals stored values and writes its audit event in the statement that reads the ciphertexts', async () => {
    const org = testOrganizationId();
    const first = await api.store(org, [{ inquiryId: 'inq_a', values: values('a') }]);
    expect(first).toEqual([{ organizationId: org, inquiryId: 'inq_a', created: true, redacted: false }]);
    const again = await api.store(org, [{ inquiryId: 'inq_a', values: values('different') }]);
    // Idempotent: the second store writes nothing (the reveal below still finds the first values).
    expect(again).toEqual([{ organizationId: org, inquiryId: 'inq_a', created: false, redacted: false }]);
    const res = await api.reveal(org, ['inq_a', 'inq_missing']);
    expect(res.status).toBe(200);
    expect(res.body.inquiries).toEqual([
      { inquiryId: 'inq_a', found: true, redacted: false, attributes: values('a') },
      { inquiryId: 'inq_missing', found: false, redacted: false, attributes: {} },
    ]);
    const audits = await adminQuery<{ payload: string }>(
      `select payload from vault.outbox where organization_id = $1 and topic = 'audit.events'`,
      [org],
    );
    expect(audits.map((a) => JSON.parse(a.payload).data)).toEqual([
      {
        action: 'pii.reveal',
        actor: { type: 'api_key', id: 'key_test' },
        outcome: 'allowed',
        targets: {
          inquiryIds: ['inq_a', 'inq_missing'],
          attributes: ['nameFirst', 'nameLast', 'emailAddress'],
        },
        purpose: 'vault integration test',
        requestId: expect.any(String),
      },
    ]);
  });

  it('reveals nothing when the audit event cannot be written (same statement)', async () => {
    const org = testOrganizationId();
    await api.store(org, [{ inquiryId: 'inq_audited', values: values('audited') }]);
    // Make the audit write fail for this organization only, as a full disk or a bad deploy might.
    const fn = `fail_audit_${org}`;
    await adminQuery(
      `create function vault.${fn}() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`,
    );
    await adminQuery(
      `create trigger ${fn} before insert on vault.outbox for each row when (new.organization_id = '${org}') execute function vault.${fn}()`,
    );
    try {
      const res = await api.reveal(org, ['inq_audited']);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(JSON.stringify(res.body)).not.toMatch(/Ada-|Lovelace-|@example\.com/);
    } finally {
      await adminQuery(`drop trigger ${fn} on vault.outbox`);
      await adminQuery(`drop function vault.${fn}()`);
    }
    expect((await api.reveal(org, ['inq_audited'])).status).toBe(200);
  });

  it('refuses a flipped bit anywhere in a ciphertext', async () => {
    const org = testOrganizationId();
    await api.store(org, [{ inquiryId: 'inq_bits', values: values('bits') }]);
    const original = await ciphertext(org, 'inq_bits', 'nameFirst');
    for (const position of [0, 1, 12, 13, original.length - 17, original.length - 1]) {
      const tampered = Buffer.from(original);
      tampered[position]! ^= 0x01;
      await overwrite(org, 'inq_bits', 'nameFirst', tampered);
      await expectIntegrityFailure(org, 'inq_bits');
    }
    await overwrite(org, 'inq_bits', 'nameFirst', original);
    expect((await api.reveal(org, ['inq_bits'])).status).toBe(200);
  });

  it('refuses a ciphertext swapped between attributes, inquiries or organizations', async () => {
    const orgA = testOrganizationId();
    const orgB = testOrganizationId();
    await api.store(orgA, [
      { inquiryId: 'inq_1', values: values('a1') },
      { inquiryId: 'inq_2', values: values('a2') },
    ]);
    await api.store(orgB, [{ inquiryId: 'inq_1', values: values('b1') }]);

    // between attributes of one inquiry
    const first = await ciphertext(orgA, 'inq_1', 'nameFirst');
    await overwrite(orgA, 'inq_1', 'nameFirst', await ciphertext(orgA, 'inq_1', 'nameLast'));
    await expectIntegrityFailure(orgA, 'inq_1');
    await overwrite(orgA, 'inq_1', 'nameFirst', first);

    // between inquiries of one organization
    await overwrite(orgA, 'inq_2', 'nameFirst', first);
    await expectIntegrityFailure(orgA, 'inq_2');

    // between organizations (same inquiry id)
    await overwrite(orgB, 'inq_1', 'nameFirst', first);
    await expectIntegrityFailure(orgB, 'inq_1');

    // a wrapped data key moved between inquiries
    await adminQuery(
      `update vault.data_keys set wrapped_key = (select wrapped_key from vault.data_keys where organization_id = $1 and inquiry_id = 'inq_1')
        where organization_id = $1 and inquiry_id = 'inq_2'`,
      [orgA],
    );
    await expectIntegrityFailure(orgA, 'inq_2');
  });

  it('answers 401 without a known credential and 400 with field paths for bad requests', async () => {
    const noToken = await fetch(`${vault.baseUrl}/internal/v1/inquiries/reveal`, {
      method: 'POST',
      body: '{}',
    });
    expect(noToken.status).toBe(401);
    const wrongToken = await api.caller.post(
      '/internal/v1/inquiries/store',
      {},
      'veil-local-not-a-caller-token',
    );
    expect(wrongToken.status).toBe(401);
    const bad = await api.caller.post(
      '/internal/v1/inquiries/store',
      { inquiries: [{ organizationId: 'org_x', inquiryId: 'inq_x', values: { shoeSize: '42' } }] },
      api.caller.ingestToken,
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'invalid_request',
      details: { fields: [{ path: 'inquiries.0.values' }] },
    });
  });

  it("gives each caller only its own operations: ingest's credential cannot reveal or look up, the api's cannot store", async () => {
    const org = testOrganizationId();
    await api.store(org, [{ inquiryId: 'inq_own', values: values('own') }]);
    const reveal = api.caller.revealBody({
      organizationId: org,
      inquiryIds: ['inq_own'],
      attributes: ['nameFirst'],
      purpose: 'probe',
    });
    for (const [path, body] of [
      ['/internal/v1/inquiries/reveal', reveal],
      ['/internal/v1/inquiries/reveal-batch', { requests: [reveal] }],
      [
        '/internal/v1/inquiries/lookup',
        { ...reveal, kind: 'emailAddress', value: values('own').emailAddress },
      ],
    ] as const) {
      const res = await api.caller.post(path, body, api.caller.ingestToken);
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 403,
        code: 'forbidden',
      });
      expect(JSON.stringify(res.body)).not.toContain('Ada-own');
    }
    const store = await api.caller.post(
      '/internal/v1/inquiries/store',
      { inquiries: [{ organizationId: org, inquiryId: 'inq_api', values: values('api') }] },
      api.caller.apiToken,
    );
    expect({ status: store.status, code: store.body.code }).toEqual({ status: 403, code: 'forbidden' });
  });

  it('refuses a forged, altered, expired or mismatched access grant, reveals nothing and audits the refusal', async () => {
    const org = testOrganizationId();
    const other = testOrganizationId();
    await api.store(org, [{ inquiryId: 'inq_granted', values: values('granted') }]);
    const good = () =>
      api.caller.revealBody({
        organizationId: org,
        inquiryIds: ['inq_granted'],
        attributes: ['nameFirst'],
        purpose: 'probe',
      });
    const base = good();
    const [body, mac] = base.grant.split('.') as [string, string];
    const flipped = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'AB' : 'AA'}`;
    const forged = signGrant(randomBytes(32), {
      organizationId: org,
      keyId: 'key_test',
      requestId: base.requestId,
      scopes: ['pii:reveal'],
      expiresAt: Date.now() + 60_000,
    });
    const grant = (fields: Partial<AccessGrant>) =>
      signGrant(grantKey(vault.env.VAULT_GRANT_KEY!), {
        organizationId: org,
        keyId: 'key_test',
        requestId: base.requestId,
        scopes: ['pii:reveal'],
        expiresAt: Date.now() + 60_000,
        ...fields,
      });
    const cases: Record<string, Record<string, unknown>> = {
      'altered signature': { ...base, grant: flipped },
      'signed with another key': { ...base, grant: forged },
      expired: { ...base, grant: grant({ expiresAt: Date.now() - 1 }) },
      'another organization in the request': { ...base, organizationId: other, grant: base.grant },
      'granted for another organization': { ...base, grant: grant({ organizationId: other }) },
      'another actor': { ...base, actor: { type: 'api_key', id: 'key_other' } },
      'an operator actor': { ...base, actor: { type: 'operator', id: 'op_mallory' } },
      'another request id': { ...base, requestId: 'req_other' },
      'a key without pii:reveal': { ...base, grant: grant({ scopes: ['inquiry:read'] }) },
      'no grant at all': { ...base, grant: 'x.y' },
    };
    for (const [name, request] of Object.entries(cases)) {
      const before = await grantRejections(org);
      const res = await api.caller.post('/internal/v1/inquiries/reveal', request, api.caller.apiToken);
      expect({ name, status: res.status, code: res.body.code }).toEqual({
        name,
        status: 403,
        code: 'invalid_grant',
      });
      expect(JSON.stringify(res.body)).not.toContain('Ada-granted');
      if (request.organizationId === org)
        await expectEventually(async () => expect(await grantRejections(org)).toBe(before + 1));
    }
    // In a batch, a refused grant fails only its own request.
    const batch = await api.caller.post(
      '/internal/v1/inquiries/reveal-batch',
      { requests: [{ ...good(), grant: flipped }, good()] },
      api.caller.apiToken,
    );
    expect(batch.status).toBe(200);
    expect(batch.body.results).toEqual([
      { ok: false, error: { code: 'invalid_grant', message: expect.any(String) } },
      {
        ok: true,
        inquiries: [
          {
            inquiryId: 'inq_granted',
            found: true,
            redacted: false,
            attributes: { nameFirst: 'Ada-granted' },
          },
        ],
      },
    ]);
  });

  async function grantRejections(org: string): Promise<number> {
    const [row] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from vault.outbox
        where organization_id = $1 and topic = 'audit.events' and payload::jsonb -> 'data' ->> 'action' = 'vault.grant_rejected'
          and payload::jsonb -> 'data' ->> 'outcome' = 'denied'`,
      [org],
    );
    return row!.n;
  }

  it('isolates a failing request in a batch, and never logs or answers the text of a malformed stored value', async () => {
    const org = testOrganizationId();
    const otherOrg = testOrganizationId();
    const secret = `CANARY-unparsable-${testId('v')}`;
    // A list attribute stored as text that is not a JSON list: revealing it must fail without quoting it.
    await api.store(org, [{ inquiryId: 'inq_bad', values: { documentFiles: secret } }]);
    await api.store(otherOrg, [{ inquiryId: 'inq_fine', values: values('fine') }]);
    const res = await api.caller.revealBatch([
      { organizationId: org, inquiryIds: ['inq_bad'], attributes: ['documentFiles'], purpose: 'probe' },
      { organizationId: otherOrg, inquiryIds: ['inq_fine'], attributes: ['nameFirst'], purpose: 'probe' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { ok: false, error: { code: 'reveal_failed', message: expect.any(String) } },
      {
        ok: true,
        inquiries: [
          { inquiryId: 'inq_fine', found: true, redacted: false, attributes: { nameFirst: 'Ada-fine' } },
        ],
      },
    ]);
    const single = await api.caller.reveal({
      organizationId: org,
      inquiryIds: ['inq_bad'],
      attributes: ['documentFiles'],
      purpose: 'probe',
    });
    expect({ status: single.status, code: single.body.code }).toEqual({ status: 500, code: 'reveal_failed' });
    expect(JSON.stringify([res.body, single.body])).not.toContain(secret);
    expect(vault.logs()).not.toContain(secret);
    expect(vault.logs()).toContain('reveal request failed');
  });

  it('audits every blind-index search with the keyed subject reference and what it found, never the value', async () => {
    const org = testOrganizationId();
    const email = `${testId('lookup')}@example.com`;
    await api.store(org, [{ inquiryId: 'inq_found', values: { ...values('found'), emailAddress: email } }]);
    const res = await api.caller.lookup(org, 'emailAddress', email.toUpperCase(), 'key_searcher');
    expect(res).toEqual({ status: 200, body: { inquiryIds: ['inq_found'] } });
    const events = await adminQuery<{ payload: string }>(
      `select payload from vault.outbox where organization_id = $1 and topic = 'audit.events'
          and payload::jsonb -> 'data' ->> 'action' = 'pii.lookup'`,
      [org],
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).not.toContain(email.split('@')[0]!);
    expect(JSON.parse(events[0]!.payload).data).toEqual({
      action: 'pii.lookup',
      actor: { type: 'api_key', id: 'key_searcher' },
      outcome: 'allowed',
      targets: {
        attributes: ['emailAddress'],
        subjectRefs: [expect.stringMatching(/^[a-f0-9]{64}$/)],
        inquiryIds: ['inq_found'],
      },
      purpose: 'search by emailAddress',
      requestId: expect.any(String),
    });
  });
});

describe('vault: key rotation by encryption budget', () => {
  it('rotates before the budget, keeps old versions decrypting, and keeps counting across restarts', async () => {
    const budget = { VAULT_KEK_MAX_ENCRYPTIONS: '25', VAULT_KEK_RESERVATION_BLOCK: '10' };
    let vault = await startVault(budget);
    const org = testOrganizationId();
    const stored: string[] = [];
    try {
      for (let round = 0; round < 8; round++) {
        const batch = Array.from({ length: 5 }, () => testId('inq'));
        await new VaultApi(vault).store(
          org,
          batch.map((inquiryId) => ({ inquiryId, values: values(inquiryId) })),
        );
        stored.push(...batch);
        if (round === 3) {
          await vault.stop();
          vault = await startVault(budget); // counters must survive the restart
        }
      }
      const keys = await adminQuery<{ version: number; uses_reserved: string; retired: boolean }>(
        `select version, uses_reserved, retired_at is not null as retired from vault.organization_keys
          where organization_id = $1 and purpose = 'kek' order by version`,
        [org],
      );
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (const k of keys) expect(Number(k.uses_reserved)).toBeLessThanOrEqual(25);
      expect(keys.filter((k) => !k.retired)).toHaveLength(1);
      // every data key is counted against the KEK that wrapped it
      const perVersion = await adminQuery<{ kek_version: number; n: number }>(
        `select kek_version, count(*)::int as n from vault.data_keys where organization_id = $1 group by kek_version`,
        [org],
      );
      for (const v of perVersion) {
        const reserved = Number(keys.find((k) => k.version === v.kek_version)!.uses_reserved);
        expect(v.n).toBeLessThanOrEqual(reserved);
      }
      expect(perVersion.reduce((sum, v) => sum + v.n, 0)).toBe(40);

      const res = await new VaultApi(vault).reveal(org, stored);
      expect(res.status).toBe(200);
      for (const r of res.body.inquiries as Revealed[]) {
        expect(r.attributes).toEqual(values(r.inquiryId));
      }
    } finally {
      await vault.stop();
    }
  });
});

describe('vault: organization keys under cache churn', () => {
  // Every use evicts the cached key (max uses 1, max age 0) while other stores of the same
  // organization still hold it: a key in use must never be zeroed under them.
  it('wraps every data key under the real organization key during 1,000 concurrent stores', async () => {
    const vault = await startVault({ VAULT_KEY_CACHE_MAX_USES: '1', VAULT_KEY_CACHE_MAX_AGE_MS: '0' });
    const api = new VaultApi(vault);
    const orgs = [testOrganizationId(), testOrganizationId(), testOrganizationId()];
    const stored = Array.from({ length: 1_000 }, (_, i) => ({
      organizationId: orgs[i % orgs.length]!,
      inquiryId: testId('inq'),
    }));
    try {
      const results = await Promise.all(
        stored.map(async (s) => (await api.caller.store([{ ...s, values: values(s.inquiryId) }])).status),
      );
      expect(results.filter((status) => status !== 200)).toEqual([]);
      for (const org of orgs) {
        const ids = stored.filter((s) => s.organizationId === org).map((s) => s.inquiryId);
        for (let i = 0; i < ids.length; i += 100) {
          const res = await api.reveal(org, ids.slice(i, i + 100));
          expect(res.status).toBe(200);
          const wrong = (res.body.inquiries as Revealed[])
            .filter((r) => JSON.stringify(r.attributes) !== JSON.stringify(values(r.inquiryId)))
            .map((r) => r.inquiryId);
          expect(wrong).toEqual([]);
        }
        // The blind index was computed under the real index key too.
        const probe = stored.find((s) => s.organizationId === org)!;
        const lookup = await api.caller.lookup(org, 'emailAddress', values(probe.inquiryId).emailAddress!);
        expect(lookup.body).toEqual({ inquiryIds: [probe.inquiryId] });
      }
    } finally {
      await vault.stop();
    }
  });
});

describe('vault: tenant rows', () => {
  it("confines the vault's database role to the organizations a transaction names, on every table, with no way to switch it off", async () => {
    const vault = await startVault();
    const api = new VaultApi(vault);
    const [a, b] = [testOrganizationId(), testOrganizationId()];
    const [inquiryA, inquiryB] = [testId('inq'), testId('inq')];
    const tables = ['organization_keys', 'data_keys', 'encrypted_fields', 'blind_indexes'];
    const db = new Client({ connectionString: vault.env.DATABASE_URL });
    const inTransaction = async <T>(setting: string | undefined, work: () => Promise<T>): Promise<T> => {
      await db.query('begin');
      try {
        if (setting !== undefined)
          await db.query(`select set_config('veil.organization_id', $1, true)`, [setting]);
        return await work();
      } finally {
        await db.query('rollback');
      }
    };
    const visible = (setting: string | undefined) =>
      inTransaction(setting, async () => {
        const seen: Record<string, string[]> = {};
        for (const table of tables)
          seen[table] = (
            await db.query<{ organization_id: string }>(
              `select distinct organization_id from vault.${table} where organization_id = any($1) order by 1`,
              [[a, b]],
            )
          ).rows.map((r) => r.organization_id);
        return seen;
      });
    const everywhere = (orgs: string[]) => Object.fromEntries(tables.map((t) => [t, orgs]));
    try {
      await api.store(a, [{ inquiryId: inquiryA, values: values('rls-a') }]);
      await api.store(b, [{ inquiryId: inquiryB, values: values('rls-b') }]);
      await db.connect();
      expect(await visible(undefined)).toEqual(everywhere([]));
      expect(await visible('*')).toEqual(everywhere([]));
      expect(await visible('')).toEqual(everywhere([]));
      expect(await visible(a)).toEqual(everywhere([a]));
      expect(await visible(`${a},${b}`)).toEqual(everywhere([a, b].sort()));

      // another organization's rows cannot be written either: the policy refuses, not only the code
      await inTransaction(a, async () => {
        const shredded = await db.query(
          `update vault.data_keys set wrapped_key = null, destroyed_at = now() where organization_id = $1`,
          [b],
        );
        expect(shredded.rowCount).toBe(0);
      });
      await expect(
        inTransaction(a, () =>
          db.query(
            `insert into vault.organization_keys (organization_id, purpose, version, wrapped_key, kms_key_id)
             values ($1, 'kek', 99, '\\x00', 'forged')`,
            [b],
          ),
        ),
      ).rejects.toThrow(/row-level security/);
      // the vault's role owns no table: it cannot switch the policies off, drop or alter them
      for (const ddl of [
        'alter table vault.data_keys disable row level security',
        'alter table vault.encrypted_fields no force row level security',
        'drop policy tenant_isolation on vault.blind_indexes',
        'alter table vault.organization_keys owner to veil_vault',
      ])
        await expect(inTransaction(undefined, () => db.query(ddl))).rejects.toThrow(
          /owner|permission denied/,
        );

      // the service names its organizations: a batch over both still reveals each its own
      const [revealA, revealB] = await Promise.all([
        api.reveal(a, [inquiryA]),
        api.reveal(b, [inquiryB, inquiryA]),
      ]);
      expect(revealA.body.inquiries).toEqual([
        { inquiryId: inquiryA, found: true, redacted: false, attributes: values('rls-a') },
      ]);
      expect(revealB.body.inquiries).toEqual([
        { inquiryId: inquiryB, found: true, redacted: false, attributes: values('rls-b') },
        { inquiryId: inquiryA, found: false, redacted: false, attributes: {} },
      ]);
      expect((await api.caller.lookup(a, 'emailAddress', values('rls-a').emailAddress!)).body).toEqual({
        inquiryIds: [inquiryA],
      });
    } finally {
      await db.end().catch(() => undefined);
      await vault.stop();
    }
  });
});
