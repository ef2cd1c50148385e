import {
  adminQuery,
  canary,
  expectEventually,
  scanForCanaries,
  adminDatabaseUrl,
  type ServiceProcess,
} from '@veil/testing';
import { type Scope, SCOPES } from '@veil/platform/auth';

import { type ApiRoute, ROUTES } from '../src/http/routes';
import { ApiStack, inquiry } from './api-stack';

jest.setTimeout(300_000);

function pathFor(
  route: ApiRoute,
  ids: { inquiryId: string; keyId: string; eventId: string; redactionId?: string; holdId?: string },
): string {
  return route.path
    .replace('{inquiryId}', ids.inquiryId)
    .replace('{keyId}', ids.keyId)
    .replace('{eventId}', ids.eventId)
    .replace('{redactionId}', ids.redactionId ?? MISSING_REDACTION)
    .replace('{holdId}', ids.holdId ?? MISSING_HOLD);
}

const MISSING_HOLD = 'hold_000000000000000000000000';

const MISSING_REDACTION = 'red_00000000000000000000';

/** A harmless, valid body for each write route (so a 403 is about scopes, not input). */
function bodyFor(route: ApiRoute): unknown {
  if (route.operationId === 'putEnabledAttributes') return { attributes: [] };
  if (route.operationId === 'createApiKey') return { name: 'matrix', scopes: ['inquiry:read'] };
  if (route.operationId === 'createRedaction') return { referenceId: 'matrix-nobody' };
  if (route.operationId === 'putRetentionPolicy') return { rules: [] };
  if (route.operationId === 'createLegalHold') return { referenceId: 'matrix-nobody', basis: 'scope matrix' };
  return undefined;
}

async function auditCount(organizationId: string, action: string): Promise<number> {
  const [row] = await adminQuery<{ n: number }>(
    `select count(*)::int as n from api.outbox where organization_id = $1 and topic = 'audit.events' and payload::jsonb -> 'data' ->> 'action' = $2`,
    [organizationId, action],
  );
  return row!.n;
}

describe('customer API', () => {
  let stack: ApiStack;
  let a: { id: string; adminKey: string };
  let b: { id: string; adminKey: string };
  const aInquiries = [inquiry(canary('A')), inquiry(canary('A'))];
  const bInquiries = [inquiry(canary('B')), inquiry(canary('B')), inquiry(canary('B'))];
  /** B's redaction of an inquiry of its own, for probing the redaction routes. */
  let bRedactionId: string;
  /** B's legal hold on an inquiry of its own, for probing the legal-hold routes. */
  let bHoldId: string;
  /** What the scope matrix redacts (the route is real): none of the inquiries other tests read. */
  const matrixTarget = inquiry(canary('A'));
  const bRedacted = inquiry(canary('B'));
  let bKeyId: string;
  /** An audit entry of B's (a denied request), for probing the audit-log routes. */
  let bEventId: string;

  beforeAll(async () => {
    stack = await ApiStack.start();
    a = await stack.organization();
    b = await stack.organization();
    bKeyId = (await stack.key(b.id, ['inquiry:read'])).keyId;
    await stack.inquiries(a.id, a.adminKey, aInquiries);
    await stack.inquiries(b.id, b.adminKey, bInquiries);
    await stack.inquiries(a.id, a.adminKey, [matrixTarget]);
    await stack.inquiries(b.id, b.adminKey, [bRedacted]);
    const redaction = await stack.call('DELETE', `/v1/inquiries/${bRedacted.inquiryId}`, b.adminKey);
    expect(redaction.status).toBe(202);
    bRedactionId = redaction.body.id as string;
    const hold = await stack.call('POST', '/v1/legal-holds', b.adminKey, {
      inquiryId: bInquiries[0]!.inquiryId,
      basis: 'tenant isolation probe',
    });
    expect(hold.status).toBe(201);
    bHoldId = hold.body.id as string;
    const bReader = await stack.key(b.id, ['inquiry:read']);
    expect((await stack.call('GET', '/v1/api-keys', bReader.secret)).status).toBe(403);
    bEventId = await expectEventually(async () => {
      const [row] = await adminQuery<{ event_id: string }>(
        `select event_id from audit_log.entries where organization_id = $1 and action = 'access.denied'`,
        [b.id],
      );
      expect(row).toBeDefined();
      return row!.event_id;
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('tenant isolation', () => {
    const bSecrets = () =>
      bInquiries.flatMap((i) => [i.inquiryId, i.referenceId!, ...Object.values(i.attributes).flat()]);

    async function probe(api = stack.api, probes = 2_000): Promise<void> {
      const idRoutes = (Object.values(ROUTES) as ApiRoute[]).filter((r) => r.params);
      const seen = new Map<string, number>();
      for (let i = 0; i < probes; i++) {
        const route = idRoutes[Math.floor(Math.random() * idRoutes.length)]!;
        const target = bInquiries[Math.floor(Math.random() * bInquiries.length)]!;
        const path = pathFor(route, {
          inquiryId: target.inquiryId,
          keyId: bKeyId,
          eventId: bEventId,
          redactionId: bRedactionId,
          holdId: bHoldId,
        });
        const res = await stack.call(route.method.toUpperCase(), path, a.adminKey, bodyFor(route), {}, api);
        expect({ route: route.operationId, status: res.status, code: res.body.code }).toEqual({
          route: route.operationId,
          status: 404,
          code: 'not_found',
        });
        for (const secret of bSecrets()) expect(res.text).not.toContain(secret);
        seen.set(route.operationId, (seen.get(route.operationId) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(idRoutes.map((r) => r.operationId).sort());
      // filters cannot reach across either
      for (const target of bInquiries) {
        const list = await stack.call(
          'GET',
          `/v1/inquiries?referenceId=${encodeURIComponent(target.referenceId!)}`,
          a.adminKey,
          undefined,
          {},
          api,
        );
        expect(list.status).toBe(200);
        expect(list.body.data).toEqual([]);
      }
      const all = await stack.call('GET', '/v1/inquiries?pageSize=100', a.adminKey, undefined, {}, api);
      for (const secret of bSecrets()) expect(all.text).not.toContain(secret);
    }

    it('answers 404, exactly like a missing id, for every route probing another organization (2,000 randomized probes)', async () => {
      const missing = await stack.call('GET', '/v1/inquiries/inq_does_not_exist', a.adminKey);
      expect(missing.body.code).toBe('not_found');
      await probe();
      // B's key was never revoked by A's probes
      expect((await stack.call('GET', `/v1/inquiries/${bInquiries[0]!.inquiryId}`, b.adminKey)).status).toBe(
        200,
      );
    });

    it('still isolates with the application filter switched off: row-level security alone holds', async () => {
      const bypass = await stack.addApi({ NODE_ENV: 'test', API_TEST_DISABLE_TENANT_FILTER: '1' });
      // the bypass is real: the same build finds A's own inquiries only through row-level security
      expect(
        (
          await stack.call(
            'GET',
            `/v1/inquiries/${aInquiries[0]!.inquiryId}`,
            a.adminKey,
            undefined,
            {},
            bypass,
          )
        ).status,
      ).toBe(200);
      await probe(bypass, 600);
    });

    it("confines the service's database role to the organizations a transaction names: no wildcard, keys and organizations too, and no way to switch it off", async () => {
      const rowsAs = (setting: string) =>
        stack.inTransaction(async (_access, tx) => {
          await tx.query(`select set_config('veil.organization_id', $1, true)`, [setting]);
          const count = async (table: string) =>
            ((await tx.query(`select organization_id from ${table}`)) as { organization_id: string }[]).map(
              (r) => r.organization_id,
            );
          return {
            inquiries: [...new Set(await count('inquiries'))].sort(),
            api_keys: [...new Set(await count('api_keys'))].sort(),
            organizations: [...new Set(await count('organizations'))].sort(),
          };
        });
      const none = { inquiries: [], api_keys: [], organizations: [] };
      expect(await rowsAs('*')).toEqual(none);
      expect(await rowsAs('')).toEqual(none);
      expect(await rowsAs(a.id)).toEqual({ inquiries: [a.id], api_keys: [a.id], organizations: [a.id] });
      expect(await rowsAs(`${a.id},${b.id}`)).toEqual({
        inquiries: [a.id, b.id].sort(),
        api_keys: [a.id, b.id].sort(),
        organizations: [a.id, b.id].sort(),
      });
      // writing another organization's row is refused by the policy, not only by the code
      await expect(
        stack.inTransaction(async (_access, tx) => {
          await tx.query(`select set_config('veil.organization_id', $1, true)`, [a.id]);
          await tx.query(`update organizations set name = 'taken over' where organization_id = $1`, [b.id]);
          const [row] = (await tx.query(
            `select count(*)::int as n from organizations where name = 'taken over'`,
          )) as {
            n: number;
          }[];
          return row!.n;
        }),
      ).resolves.toBe(0);
      // the service's role owns no table: it cannot switch the policies off, drop or alter them
      for (const ddl of [
        'alter table inquiries disable row level security',
        'alter table api_keys no force row level security',
        'drop policy tenant_isolation on organizations',
        'alter table organizations owner to veil_api',
      ])
        await expect(stack.inTransaction((_access, tx) => tx.query(ddl))).rejects.toThrow(
          /owner|permission denied/,
        );
    });
  });

  describe('scopes', () => {
    it('lets each scope reach exactly its routes; denials are 403 with a code and audited', async () => {
      const routes = Object.values(ROUTES) as ApiRoute[];
      const target = {
        inquiryId: matrixTarget.inquiryId,
        keyId: 'key_0000000000000000',
        eventId: 'evt_missing',
      };
      for (const scope of SCOPES) {
        const key = await stack.key(a.id, [scope]);
        for (const route of routes) {
          const allowed = route.scopes.every((s) => s === scope);
          const before = await auditCount(a.id, 'access.denied');
          const res = await stack.call(
            route.method.toUpperCase(),
            pathFor(route, target),
            key.secret,
            bodyFor(route),
          );
          if (allowed) {
            expect({ scope, route: route.operationId, status: res.status }).not.toMatchObject({
              status: 403,
            });
            expect([401, 403]).not.toContain(res.status);
          } else {
            expect({ scope, route: route.operationId, status: res.status, code: res.body.code }).toEqual({
              scope,
              route: route.operationId,
              status: 403,
              code: 'forbidden',
            });
            expect(await auditCount(a.id, 'access.denied')).toBe(before + 1);
          }
        }
      }
    });
  });

  describe('rate limits', () => {
    it('count denied requests too: a key without the scope gets 429 once its budget is spent, and no more audited denials', async () => {
      const limited = await stack.addApi({ API_RATE_LIMIT_PER_SECOND: '5' });
      try {
        const key = await stack.key(a.id, ['audit:read']); // lacks inquiry:read
        const before = await auditCount(a.id, 'access.denied');
        const answers = await Promise.all(
          Array.from({ length: 40 }, () =>
            stack.call('GET', '/v1/inquiries', key.secret, undefined, {}, limited),
          ),
        );
        const statuses = answers.map((r) => r.status);
        expect(statuses.filter((s) => s === 403).length).toBeGreaterThan(0);
        expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(6);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(34);
        expect(statuses.every((s) => s === 403 || s === 429)).toBe(true);
        for (const r of answers) expect(r.headers.get('ratelimit-limit')).toBe('5');
        const denials = statuses.filter((s) => s === 403).length;
        await expectEventually(async () =>
          expect(await auditCount(a.id, 'access.denied')).toBe(before + denials),
        );
      } finally {
        await limited.stop();
        stack.apis.splice(stack.apis.indexOf(limited), 1);
      }
    });
  });

  describe('enabled attributes', () => {
    it('reveals nothing by default, only what is enabled, hides it again when disabled, and never without pii:reveal', async () => {
      const target = aInquiries[1]!;
      const readOnly = await stack.key(a.id, ['inquiry:read']);
      const revealer = await stack.key(a.id, ['inquiry:read', 'pii:reveal']);
      const get = async (key: string) =>
        (await stack.call('GET', `/v1/inquiries/${target.inquiryId}`, key)).body.attributes as Record<
          string,
          unknown
        >;
      const masked = { redacted: false, available: true };

      expect((await stack.call('GET', '/v1/organization/enabled-attributes', a.adminKey)).body).toEqual({
        attributes: [],
      });
      const none = await get(revealer.secret);
      expect(Object.keys(none).sort()).toEqual(['referenceId', ...Object.keys(target.attributes)].sort());
      expect(Object.values(none).every((v) => JSON.stringify(v) === JSON.stringify(masked))).toBe(true);

      const revealsBefore = await adminQuery<{ n: number }>(
        `select count(*)::int as n from vault.outbox where organization_id = $1 and payload::jsonb -> 'data' ->> 'action' = 'pii.reveal'`,
        [a.id],
      );
      const put = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
        attributes: ['nameFirst'],
      });
      expect(put).toMatchObject({ status: 200, body: { attributes: ['nameFirst'] } });
      const one = await get(revealer.secret);
      expect(one.nameFirst).toBe(target.attributes.nameFirst);
      for (const [name, value] of Object.entries(one))
        if (name !== 'nameFirst') expect(value).toEqual(masked);
      const [after] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from vault.outbox where organization_id = $1 and payload::jsonb -> 'data' ->> 'action' = 'pii.reveal'`,
        [a.id],
      );
      expect(after!.n).toBe(revealsBefore[0]!.n + 1); // the reveal was audited by the vault

      const withoutReveal = await get(readOnly.secret);
      expect(withoutReveal.nameFirst).toEqual(masked);
      expect(JSON.stringify(withoutReveal)).not.toContain(target.attributes.nameFirst!);

      await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, { attributes: [] });
      expect((await get(revealer.secret)).nameFirst).toEqual(masked);

      const changes = await adminQuery<{ change: unknown }>(
        `select payload::jsonb -> 'data' -> 'change' as change from api.outbox
          where organization_id = $1 and payload::jsonb -> 'data' ->> 'action' = 'org.enabled_attributes.changed' order by id`,
        [a.id],
      );
      expect(changes.slice(-2).map((c) => c.change)).toEqual([
        { field: 'enabledAttributes', before: [], after: ['nameFirst'] },
        { field: 'enabledAttributes', before: ['nameFirst'], after: [] },
      ]);
    });

    it('answers concurrent reveals of two organizations each with its own data, each audited once with its request id', async () => {
      const aRevealer = await stack.key(a.id, ['inquiry:read', 'pii:reveal']);
      const bRevealer = await stack.key(b.id, ['inquiry:read', 'pii:reveal']);
      for (const org of [a, b])
        await stack.call('PUT', '/v1/organization/enabled-attributes', org.adminKey, {
          attributes: ['nameFirst', 'emailAddress'],
        });
      try {
        const calls = Array.from({ length: 40 }, (_, i) => {
          const [org, key, inquiries] =
            i % 2 ? [a, aRevealer, aInquiries] : ([b, bRevealer, bInquiries] as const);
          const target = inquiries[i % inquiries.length]!;
          return { org, key, target };
        });
        // all in flight at once: the API coalesces them into shared vault calls
        const answers = await Promise.all(
          calls.map((c) => stack.call('GET', `/v1/inquiries/${c.target.inquiryId}`, c.key.secret)),
        );
        answers.forEach((res, i) => {
          const { target } = calls[i]!;
          expect(res.status).toBe(200);
          expect(res.body.attributes).toMatchObject({
            nameFirst: target.attributes.nameFirst,
            emailAddress: target.attributes.emailAddress,
          });
          // responses carry PII: no body hash in an ETag, nothing kept by caches
          expect(res.headers.get('cache-control')).toBe('no-store');
          expect(res.headers.get('etag')).toBeNull();
        });
        const audits = await adminQuery<{
          org: string;
          requestId: string;
          inquiryIds: string[];
          actor: string;
        }>(
          `select organization_id as org, payload::jsonb -> 'data' ->> 'requestId' as "requestId",
                  payload::jsonb -> 'data' -> 'targets' -> 'inquiryIds' as "inquiryIds",
                  payload::jsonb -> 'data' -> 'actor' ->> 'id' as actor
             from vault.outbox where payload::jsonb -> 'data' ->> 'requestId' = any($1::text[])`,
          [answers.map((r) => r.headers.get('request-id'))],
        );
        expect(audits).toHaveLength(calls.length);
        const byRequest = new Map(audits.map((row) => [row.requestId, row]));
        answers.forEach((res, i) => {
          const { org, key, target } = calls[i]!;
          expect(byRequest.get(res.headers.get('request-id')!)).toEqual({
            org: org.id,
            requestId: res.headers.get('request-id'),
            inquiryIds: [target.inquiryId],
            actor: key.keyId,
          });
        });
      } finally {
        for (const org of [a, b])
          await stack.call('PUT', '/v1/organization/enabled-attributes', org.adminKey, { attributes: [] });
      }
    });
  });

  describe('authentication', () => {
    it('answers 401 to missing, malformed, unknown, expired and revoked keys; revocation reaches every replica within 5 s', async () => {
      const path = `/v1/inquiries/${aInquiries[0]!.inquiryId}`;
      const expectUnauthorized = async (key: string | undefined, api = stack.api) => {
        const res = await stack.call('GET', path, key, undefined, {}, api);
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'unauthorized' });
      };
      await expectUnauthorized(undefined);
      await expectUnauthorized('not-a-key');
      await expectUnauthorized(`${a.adminKey.slice(0, -4)}AAAA`);
      await expectUnauthorized('veil_sk_key_AAAAAAAAAAAAAAAA_' + 'A'.repeat(43));

      const shortLived = await stack.key(a.id, ['inquiry:read'], new Date(Date.now() + 1_500));
      await expectEventually(async () =>
        expect((await stack.call('GET', path, shortLived.secret)).status).toBe(200),
      );
      await expectEventually(() => expectUnauthorized(shortLived.secret), { timeoutMs: 10_000 });

      const replica = stack.apis[1] ?? (await stack.addApi());
      const doomed = await stack.key(a.id, ['inquiry:read']);
      await expectEventually(async () => {
        for (const api of stack.apis)
          expect((await stack.call('GET', path, doomed.secret, undefined, {}, api)).status).toBe(200);
      });
      const revoked = await stack.call('DELETE', `/v1/api-keys/${doomed.keyId}`, a.adminKey);
      expect(revoked.status).toBe(200);
      const started = Date.now();
      await expectEventually(
        async () => {
          for (const api of stack.apis) await expectUnauthorized(doomed.secret, api);
        },
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(replica.running).toBe(true);
    });
  });

  describe('key registry', () => {
    const path = () => `/v1/inquiries/${aInquiries[0]!.inquiryId}`;
    const statusOn = async (key: string, api: ServiceProcess) =>
      (await stack.call('GET', path(), key, undefined, {}, api)).status;
    const replicas = async () => {
      while (stack.apis.length < 2) await stack.addApi();
      return stack.apis;
    };

    it('sees two revocations whose commits come out of order on every replica within 5 s', async () => {
      const apis = await replicas();
      const first = await stack.key(a.id, ['inquiry:read']);
      const second = await stack.key(a.id, ['inquiry:read']);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let revokedInTx!: () => void;
      const inTx = new Promise<void>((resolve) => (revokedInTx = resolve));
      // The first revocation takes its change marker, then waits to commit until after the second.
      const slow = stack.inTransaction(async (access, tx) => {
        expect(await access.revokeKey(tx, a.id, first.keyId)).toBeDefined();
        revokedInTx();
        await held;
      });
      await inTx;
      expect((await stack.call('DELETE', `/v1/api-keys/${second.keyId}`, a.adminKey)).status).toBe(200);
      await expectEventually(async () => {
        for (const api of apis) expect(await statusOn(second.secret, api)).toBe(401);
      });
      // Every replica has refreshed past the second change; now the first one commits.
      release();
      await slow;
      const committed = Date.now();
      await expectEventually(
        async () => {
          for (const api of apis) expect(await statusOn(first.secret, api)).toBe(401);
        },
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      expect(Date.now() - committed).toBeLessThan(5_000);
    });

    it('makes every key of a suspended organization answer 401 on every replica within 5 s, and restores them', async () => {
      const apis = await replicas();
      const org = await stack.organization();
      const reader = await stack.key(org.id, ['inquiry:read']);
      for (const api of apis) expect(await statusOn(reader.secret, api)).not.toBe(401);
      await adminQuery(`update api.organizations set status = 'suspended' where organization_id = $1`, [
        org.id,
      ]);
      const suspended = Date.now();
      await expectEventually(
        async () => {
          for (const api of apis)
            for (const key of [org.adminKey, reader.secret]) expect(await statusOn(key, api)).toBe(401);
        },
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      expect(Date.now() - suspended).toBeLessThan(5_000);
      await adminQuery(`update api.organizations set status = 'active' where organization_id = $1`, [org.id]);
      await expectEventually(async () => {
        for (const api of apis) expect(await statusOn(reader.secret, api)).not.toBe(401);
      });
    });
  });

  describe('conventions', () => {
    it('answers 413 for oversized bodies and 400 for unknown fields, with {code, message, requestId, details}', async () => {
      const huge = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
        attributes: [],
        pad: 'x'.repeat(1_100_000),
      });
      expect(huge).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
      const unknown = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
        attributes: [],
        isAdmin: true,
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({
        code: 'invalid_request',
        details: { fields: [{ path: 'body.(root)' }] },
      });
      expect(unknown.body.requestId).toBe(unknown.headers.get('request-id'));
      const unknownQuery = await stack.call('GET', '/v1/inquiries?role=admin', a.adminKey);
      expect(unknownQuery.status).toBe(400);
      const badVersion = await stack.call('GET', '/v1/inquiries', a.adminKey, undefined, {
        'Veil-Version': '1999-01-01',
      });
      expect(badVersion).toMatchObject({ status: 400, body: { code: 'unsupported_version' } });
      const ok = await stack.call('GET', '/v1/inquiries', a.adminKey);
      expect(ok.headers.get('veil-version')).toBe('2026-11-25');
      expect(ok.headers.get('ratelimit-limit')).toBe('100000');
    });

    it('treats injection strings in every field as data: no 500, nothing polluted', async () => {
      const nasty = [
        "' OR '1'='1",
        "'; drop table api.inquiries; --",
        'line\r\nSet-Cookie: admin=1',
        '{"__proto__":{"isAdmin":true}}',
        '../../etc/passwd',
        '%00%0d%0a',
        '${7*7}{{7*7}}',
        'constructor',
        '__proto__',
      ];
      for (const value of nasty) {
        const encoded = encodeURIComponent(value);
        const answers = await Promise.all([
          stack.call('GET', `/v1/inquiries/${encoded}`, a.adminKey),
          stack.call('DELETE', `/v1/inquiries/${encoded}`, a.adminKey),
          stack.call('DELETE', `/v1/api-keys/${encoded}`, a.adminKey),
          stack.call('GET', `/v1/inquiries?referenceId=${encoded}`, a.adminKey),
          stack.call('GET', `/v1/inquiries?status=${encoded}`, a.adminKey),
          stack.call('GET', `/v1/inquiries?cursor=${encoded}`, a.adminKey),
          stack.call('GET', `/v1/inquiries?createdAfter=${encoded}`, a.adminKey),
          stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, { attributes: [value] }),
          stack.call('POST', '/v1/api-keys', a.adminKey, { name: value, scopes: [value] }),
          stack.call(
            'POST',
            '/v1/api-keys',
            a.adminKey,
            JSON.parse(`{"name": "x", "scopes": ["inquiry:read"], "__proto__": {"isAdmin": true}}`),
          ),
          stack.call('GET', '/v1/inquiries', a.adminKey, undefined, {
            'Request-Id': value.replace(/[\r\n]/g, ''),
          }),
        ]);
        for (const res of answers) {
          expect(res.status).toBeLessThan(500);
          expect(res.headers.get('set-cookie')).toBeNull();
        }
      }
      const org = await stack.call('GET', '/v1/organization', a.adminKey);
      expect(org.status).toBe(200);
      expect(org.body).not.toHaveProperty('isAdmin');
      expect(Object.prototype).not.toHaveProperty('isAdmin');
      expect(
        (
          await adminQuery<{ n: number }>(
            'select count(*)::int as n from api.inquiries where organization_id = $1',
            [a.id],
          )
        )[0]!.n,
      ).toBe(aInquiries.length + 1); // and the scope matrix's target
    });

    it('replays the first response for a repeated Idempotency-Key and refuses it for a different request', async () => {
      const headers = { 'Idempotency-Key': `idem-${Date.now()}` };
      const first = await stack.call(
        'POST',
        '/v1/api-keys',
        a.adminKey,
        { name: 'idempotent', scopes: ['audit:read'] },
        headers,
      );
      expect(first.status).toBe(201);
      expect(first.body.secret).toMatch(/^veil_sk_/);
      const again = await stack.call(
        'POST',
        '/v1/api-keys',
        a.adminKey,
        { scopes: ['audit:read'], name: 'idempotent' },
        headers,
      );
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect({ ...again.body, secret: 'x' }).toEqual({ ...first.body, secret: 'x' });
      expect(again.body.secret).toBeNull(); // the secret is never stored, so never replayed
      const keys = (await stack.call('GET', '/v1/api-keys', a.adminKey)).body.data as { name: string }[];
      expect(keys.filter((k) => k.name === 'idempotent')).toHaveLength(1);
      const different = await stack.call(
        'POST',
        '/v1/api-keys',
        a.adminKey,
        { name: 'other', scopes: ['audit:read'] },
        headers,
      );
      expect(different).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
      // error answers replay too
      const missingKey = { 'Idempotency-Key': `idem-missing-${Date.now()}` };
      const gone = await stack.call(
        'DELETE',
        '/v1/api-keys/key_0000000000000000',
        a.adminKey,
        undefined,
        missingKey,
      );
      expect(gone.status).toBe(404);
      expect(
        (await stack.call('DELETE', '/v1/api-keys/key_0000000000000000', a.adminKey, undefined, missingKey))
          .status,
      ).toBe(404);
    });

    it('serves the OpenAPI document at /docs, and every documented route exists', async () => {
      const doc = (await stack.call('GET', '/docs/openapi.json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      expect(Object.keys(doc.paths).sort()).toEqual(
        [...new Set((Object.values(ROUTES) as ApiRoute[]).map((r) => r.path))].sort(),
      );
      expect((await stack.call('GET', '/docs')).text).toContain('swagger-ui');
      for (const route of Object.values(ROUTES) as ApiRoute[]) {
        const res = await stack.call(
          route.method.toUpperCase(),
          pathFor(route, { inquiryId: 'inq_x', keyId: 'key_0000000000000000', eventId: 'evt_x' }),
        );
        expect({ route: route.operationId, status: res.status }).toEqual({
          route: route.operationId,
          status: 401,
        });
      }
      expect((await stack.call('GET', '/v1/undocumented', a.adminKey)).status).toBe(404);
    });
  });

  it('keeps B’s and A’s plaintext out of the API, vault and audit-log schemas, every PII-free topic (audit.events too) and the logs (canary scan)', async () => {
    const canaries = [...aInquiries, ...bInquiries].flatMap((i) =>
      Object.values(i.attributes)
        .flat()
        .filter((v) => v.includes('CANARY-')),
    );
    expect(canaries.length).toBeGreaterThan(10);
    const hits = await scanForCanaries({
      canaries,
      databaseUrl: adminDatabaseUrl(),
      schemas: ['api', 'ingest', 'vault', 'audit_log'],
      logPaths: stack.logFiles(),
    });
    expect(hits).toEqual([]);
  });
});

// Keep the list of scopes in the matrix honest: a new scope must get a route or a deliberate exception.
test('every scope is known to the matrix', () => {
  expect(SCOPES as readonly Scope[]).toEqual([
    'inquiry:read',
    'inquiry:redact',
    'pii:reveal',
    'dsar:manage',
    'retention:manage',
    'audit:read',
    'org:admin',
  ]);
});
