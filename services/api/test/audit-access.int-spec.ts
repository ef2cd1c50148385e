import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type AuditLogEntry,
  checkConsistencyProof,
  checkInclusionProof,
  type ConsistencyProof,
  type InclusionProof,
} from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';
import {
  adminDatabaseUrl,
  adminQuery,
  canary,
  expectEventually,
  scanForCanaries,
  type ServiceProcess,
  testId,
  VaultCaller,
} from '@veil/testing';

import { type ApiRoute, nestPath, ROUTES } from '../src/http/routes';
import { ApiStack, inquiry } from './api-stack';

jest.setTimeout(300_000);

/** Routes every service maps for operations; they serve no data. */
const OPERATIONAL = ['GET /health/live', 'GET /health/ready'];

/**
 * The vault's routes and what each does with personal data. The customer API's routes say it
 * themselves (`pii` in ROUTES). A new route of either service must be classified, or this fails.
 */
const VAULT_ROUTES: Record<string, 'reveal' | 'search' | null> = {
  ...Object.fromEntries(OPERATIONAL.map((r) => [r, null])),
  'POST /internal/v1/inquiries/store': null, // takes PII in; answers only whether each was created
  'POST /internal/v1/inquiries/lookup': 'search', // blind-index search: which inquiries hold a value
  'POST /internal/v1/inquiries/reveal': 'reveal',
  'POST /internal/v1/inquiries/reveal-batch': 'reveal',
  'POST /internal/v1/subjects/ref': null, // a blind index for a subject redaction: reveals nothing stored
  'POST /internal/v1/redactions/status': null, // ids and times only
  'POST /internal/v1/legal-holds/place': null, // ids and a basis; no PII
  'POST /internal/v1/legal-holds/list': null,
  'POST /internal/v1/legal-holds/release': null,
  'POST /internal/v1/legal-holds/among': null, // which inquiries are held: ids only
};

/** Every HTTP route a running service mapped, from its own startup log: "GET /v1/inquiries/:inquiryId". */
function mappedRoutes(service: ServiceProcess): string[] {
  const found = new Set<string>();
  for (const m of service.logs().matchAll(/Mapped \{([^,]+), (\w+)\} route/g)) found.add(`${m[2]} ${m[1]}`);
  return [...found].sort();
}

interface LoggedRow {
  chain_id: string;
  entry: string;
}

async function loggedFor(requestId: string): Promise<AuditLogEntry[]> {
  const rows = await adminQuery<LoggedRow>(
    `select chain_id, entry from audit_log.entries where request_id = $1 order by chain_id, seq`,
    [requestId],
  );
  return rows.map((r) => JSON.parse(r.entry) as AuditLogEntry);
}

/** Waits for the request's audit entry, then requires that it is the only one, at the source too. */
async function exactlyOneEntry(requestId: string): Promise<AuditLogEntry> {
  const [entry] = await expectEventually(async () => {
    const found = await loggedFor(requestId);
    expect(found.length).toBeGreaterThan(0);
    return found;
  });
  const [outbox] = await adminQuery<{ n: number }>(
    `select count(*)::int as n from (select payload from vault.outbox union all select payload from api.outbox) o
      where o.payload::jsonb -> 'data' ->> 'requestId' = $1`,
    [requestId],
  );
  expect(outbox!.n).toBe(1);
  expect(await loggedFor(requestId)).toHaveLength(1);
  return entry!;
}

/** Makes every insert into a service's outbox fail, as a full disk or a lost connection would. */
async function withFailingOutbox<T>(schema: 'vault' | 'api', body: () => Promise<T>): Promise<T> {
  await adminQuery(`create or replace function public.veil_test_refuse_outbox() returns trigger
    language plpgsql as $$ begin raise exception 'injected outbox failure'; end $$`);
  await adminQuery(
    `create trigger veil_test_refuse_outbox before insert on ${schema}.outbox for each row execute function public.veil_test_refuse_outbox()`,
  );
  try {
    return await body();
  } finally {
    await adminQuery(`drop trigger veil_test_refuse_outbox on ${schema}.outbox`);
  }
}

function standaloneVerify(args: string[]) {
  return spawnSync(process.execPath, ['-r', '@swc-node/register', 'tools/verify-audit-export.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
}

describe('audit log: every access recorded, and customers can read and verify it', () => {
  let stack: ApiStack;
  let a: { id: string; adminKey: string };
  let b: { id: string; adminKey: string };
  let revealer: { keyId: string; secret: string };
  let auditor: { keyId: string; secret: string };
  let publicKeyPem: string;
  const aInquiries = [inquiry(canary('A')), inquiry(canary('A')), inquiry(canary('A'))];
  const bInquiries = [inquiry(canary('B')), inquiry(canary('B'))];
  const work = mkdtempSync(join(tmpdir(), 'veil-audit-api-'));

  // The vault's internal API as the api calls it: the api's credential, a grant per request.
  const vault = async (path: string, body: unknown) => {
    const caller = new VaultCaller(stack.vault);
    const res = await caller.post(path, body, caller.apiToken);
    return { status: res.status, text: JSON.stringify(res.body) };
  };
  const revealBody = (
    organizationId: string,
    inquiryIds: string[],
    requestId: string,
    keyId = revealer.keyId,
  ) =>
    new VaultCaller(stack.vault).revealBody({
      organizationId,
      inquiryIds,
      attributes: ['nameFirst'],
      purpose: 'support ticket 4411',
      keyId,
      requestId,
    });
  const lookupBody = (organizationId: string, referenceId: string, requestId: string) => {
    const body = revealBody(organizationId, ['unused'], requestId);
    return {
      organizationId,
      kind: 'referenceId',
      value: referenceId,
      actor: body.actor,
      requestId,
      grant: body.grant,
    };
  };

  beforeAll(async () => {
    stack = await ApiStack.start();
    a = await stack.organization();
    b = await stack.organization();
    await stack.inquiries(a.id, a.adminKey, aInquiries);
    await stack.inquiries(b.id, b.adminKey, bInquiries);
    const enabled = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
      attributes: ['nameFirst', 'emailAddress'],
    });
    expect(enabled.status).toBe(200);
    revealer = await stack.key(a.id, ['inquiry:read', 'pii:reveal']);
    auditor = await stack.key(a.id, ['audit:read']);
    // An operator acting on A's data (a key made with the operator command): the operator chain.
    const operator = spawnSync(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'tools/veil-admin.ts',
        'key:create',
        a.id,
        'operator probe',
        'inquiry:read',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(operator.status).toBe(0);
    publicKeyPem = (await stack.call('GET', '/v1/audit-log/public-key', auditor.secret)).body
      .publicKeyPem as string;
    expect(publicKeyPem).toContain('BEGIN PUBLIC KEY');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('every route that reveals, exports or redacts', () => {
    const apiAccessRoutes = (Object.values(ROUTES) as ApiRoute[]).filter((r) => r.pii);

    it('knows every route: the customer API declares what each does with PII, the vault’s are classified here', () => {
      expect(mappedRoutes(stack.vault)).toEqual(Object.keys(VAULT_ROUTES).sort());
      const documented = (Object.values(ROUTES) as ApiRoute[]).map(
        (r) => `${r.method.toUpperCase()} /${nestPath(r)}`,
      );
      expect(mappedRoutes(stack.api).filter((r) => !r.startsWith('GET /docs'))).toEqual(
        [...OPERATIONAL, ...documented].sort(),
      );
      expect(apiAccessRoutes.map((r) => `${r.operationId}:${r.pii}`).sort()).toEqual([
        'createRedaction:redact',
        'getInquiry:reveal',
        'listInquiries:reveal',
        'redactInquiry:redact',
      ]);
    });

    it('writes exactly one audit entry per access, with the actor, organization, targets, purpose and request id', async () => {
      const cases: Record<string, () => Promise<void>> = {
        getInquiry: async () => {
          const requestId = testId('req');
          const res = await stack.call(
            'GET',
            `/v1/inquiries/${aInquiries[0]!.inquiryId}`,
            revealer.secret,
            undefined,
            {
              'Request-Id': requestId,
            },
          );
          expect(res.status).toBe(200);
          expect(res.text).toContain(aInquiries[0]!.attributes.nameFirst);
          const entry = await exactlyOneEntry(requestId);
          expect(entry).toMatchObject({ chain: `org:${a.id}`, organizationId: a.id, producer: 'vault' });
          expect({
            ...entry.event,
            targets: { ...entry.event.targets, attributes: [...entry.event.targets.attributes!].sort() },
          }).toEqual({
            action: 'pii.reveal',
            actor: { type: 'api_key', id: revealer.keyId },
            outcome: 'allowed',
            targets: { inquiryIds: [aInquiries[0]!.inquiryId], attributes: ['emailAddress', 'nameFirst'] },
            purpose: 'customer API: GET /v1/inquiries/{inquiryId}',
            requestId,
          });
        },
        listInquiries: async () => {
          const requestId = testId('req');
          const res = await stack.call('GET', '/v1/inquiries?pageSize=100', revealer.secret, undefined, {
            'Request-Id': requestId,
          });
          expect(res.status).toBe(200);
          const entry = await exactlyOneEntry(requestId);
          expect(entry.organizationId).toBe(a.id);
          expect(entry.event).toMatchObject({
            action: 'pii.reveal',
            actor: { type: 'api_key', id: revealer.keyId },
            outcome: 'allowed',
            purpose: 'customer API: GET /v1/inquiries',
          });
          expect([...entry.event.targets.inquiryIds!].sort()).toEqual(
            aInquiries.map((i) => i.inquiryId).sort(),
          );
        },
        redactInquiry: async () => {
          const requestId = testId('req');
          const res = await stack.call(
            'DELETE',
            `/v1/inquiries/${bInquiries[1]!.inquiryId}`,
            b.adminKey,
            undefined,
            { 'Request-Id': requestId },
          );
          expect(res.status).toBe(202);
          const entry = await exactlyOneEntry(requestId);
          expect(entry).toMatchObject({ chain: `org:${b.id}`, organizationId: b.id, producer: 'api' });
          expect(entry.event).toEqual({
            action: 'pii.redaction.requested',
            actor: { type: 'api_key', id: expect.stringMatching(/^key_/) },
            outcome: 'allowed',
            targets: { resourceIds: [res.body.id], inquiryIds: [bInquiries[1]!.inquiryId] },
            purpose: 'redact an inquiry',
            requestId,
          });
        },
        createRedaction: async () => {
          const requestId = testId('req');
          const referenceId = bInquiries[1]!.referenceId!;
          const res = await stack.call(
            'POST',
            '/v1/redactions',
            b.adminKey,
            { referenceId },
            {
              'Request-Id': requestId,
            },
          );
          expect(res.status).toBe(202);
          const entry = await exactlyOneEntry(requestId);
          expect(entry).toMatchObject({ chain: `org:${b.id}`, organizationId: b.id, producer: 'api' });
          expect(entry.event).toEqual({
            action: 'pii.redaction.requested',
            actor: { type: 'api_key', id: expect.stringMatching(/^key_/) },
            outcome: 'allowed',
            targets: { resourceIds: [res.body.id], subjectRefs: [expect.stringMatching(/^[a-f0-9]{64}$/)] },
            purpose: 'redact every inquiry of a subject',
            requestId,
          });
          expect(JSON.stringify(entry)).not.toContain(referenceId);
        },
        'POST /internal/v1/inquiries/reveal': async () => {
          const requestId = testId('req');
          const res = await vault(
            '/internal/v1/inquiries/reveal',
            revealBody(a.id, [aInquiries[1]!.inquiryId], requestId),
          );
          expect(res.status).toBe(200);
          const entry = await exactlyOneEntry(requestId);
          expect(entry).toMatchObject({ chain: `org:${a.id}`, organizationId: a.id, producer: 'vault' });
          expect(entry.event).toEqual({
            action: 'pii.reveal',
            actor: { type: 'api_key', id: revealer.keyId },
            outcome: 'allowed',
            targets: { inquiryIds: [aInquiries[1]!.inquiryId], attributes: ['nameFirst'] },
            purpose: 'support ticket 4411',
            requestId,
          });
        },
        'POST /internal/v1/inquiries/reveal-batch': async () => {
          const forA = testId('req');
          const forB = testId('req');
          const res = await vault('/internal/v1/inquiries/reveal-batch', {
            requests: [
              revealBody(a.id, [aInquiries[2]!.inquiryId], forA),
              revealBody(b.id, [bInquiries[0]!.inquiryId], forB, 'key_b'),
            ],
          });
          expect(res.status).toBe(200);
          expect((await exactlyOneEntry(forA)).event.targets.inquiryIds).toEqual([aInquiries[2]!.inquiryId]);
          const bEntry = await exactlyOneEntry(forB);
          expect(bEntry).toMatchObject({ chain: `org:${b.id}`, organizationId: b.id });
          expect(bEntry.event.targets.inquiryIds).toEqual([bInquiries[0]!.inquiryId]);
        },
        'POST /internal/v1/inquiries/lookup': async () => {
          const requestId = testId('req');
          const res = await vault(
            '/internal/v1/inquiries/lookup',
            lookupBody(a.id, aInquiries[1]!.referenceId!, requestId),
          );
          expect(res.status).toBe(200);
          const entry = await exactlyOneEntry(requestId);
          expect(entry).toMatchObject({ chain: `org:${a.id}`, organizationId: a.id, producer: 'vault' });
          expect(entry.event).toEqual({
            action: 'pii.lookup',
            actor: { type: 'api_key', id: revealer.keyId },
            outcome: 'allowed',
            targets: {
              attributes: ['referenceId'],
              subjectRefs: [expect.stringMatching(/^[a-f0-9]{64}$/)],
              inquiryIds: [aInquiries[1]!.inquiryId],
            },
            purpose: 'search by referenceId',
            requestId,
          });
          expect(JSON.stringify(entry)).not.toContain(aInquiries[1]!.referenceId!);
          // The customer API's search is that lookup, then the reveal of what it found: two entries.
          const searchId = testId('req');
          const search = await stack.call(
            'GET',
            `/v1/inquiries?referenceId=${encodeURIComponent(aInquiries[1]!.referenceId!)}`,
            revealer.secret,
            undefined,
            { 'Request-Id': searchId },
          );
          expect(search.status).toBe(200);
          const both = await expectEventually(async () => {
            const found = await loggedFor(searchId);
            expect(found).toHaveLength(2);
            return found;
          });
          expect(both.map((e) => e.event.action).sort()).toEqual(['pii.lookup', 'pii.reveal']);
        },
      };
      const paths = [
        ...apiAccessRoutes.map((r) => r.operationId),
        ...Object.entries(VAULT_ROUTES)
          .filter(([, kind]) => kind)
          .map(([route]) => route),
      ];
      expect(Object.keys(cases).sort()).toEqual(paths.sort());
      for (const path of paths) await cases[path]!();
    });

    it('refuses the access, revealing nothing, when its audit event cannot be written (injected outbox failure)', async () => {
      const secrets = aInquiries.map((i) => i.attributes.nameFirst!);
      const attempts: [string, () => Promise<{ status: number; text: string }>][] = [
        ['getInquiry', () => stack.call('GET', `/v1/inquiries/${aInquiries[0]!.inquiryId}`, revealer.secret)],
        ['listInquiries', () => stack.call('GET', '/v1/inquiries?pageSize=100', revealer.secret)],
        [
          'vault reveal',
          async () => {
            const res = await vault(
              '/internal/v1/inquiries/reveal',
              revealBody(a.id, [aInquiries[1]!.inquiryId], testId('req')),
            );
            return { status: res.status, text: res.text };
          },
        ],
        [
          'vault reveal-batch',
          async () => {
            const res = await vault('/internal/v1/inquiries/reveal-batch', {
              requests: [revealBody(a.id, [aInquiries[2]!.inquiryId], testId('req'))],
            });
            return { status: res.status, text: res.text };
          },
        ],
        [
          'vault lookup',
          () =>
            vault(
              '/internal/v1/inquiries/lookup',
              lookupBody(a.id, aInquiries[1]!.referenceId!, testId('req')),
            ),
        ],
        [
          'searchInquiries',
          () =>
            stack.call(
              'GET',
              `/v1/inquiries?referenceId=${encodeURIComponent(aInquiries[1]!.referenceId!)}`,
              revealer.secret,
            ),
        ],
      ];
      const [before] = await adminQuery<{ n: number }>(`select count(*)::int as n from vault.outbox`);
      await withFailingOutbox('vault', async () => {
        for (const [name, attempt] of attempts) {
          const res = await attempt();
          expect({ name, failed: res.status >= 500 }).toEqual({ name, failed: true });
          for (const secret of secrets) expect(res.text).not.toContain(secret);
        }
      });
      const [after] = await adminQuery<{ n: number }>(`select count(*)::int as n from vault.outbox`);
      expect(after!.n).toBe(before!.n);
      // once the outbox works again, so does the access
      const again = await stack.call('GET', `/v1/inquiries/${aInquiries[0]!.inquiryId}`, revealer.secret);
      expect(again.status).toBe(200);
      expect(again.text).toContain(aInquiries[0]!.attributes.nameFirst);
    });

    it('refuses policy and key changes whose audit event cannot be written', async () => {
      const keysBefore = (await stack.call('GET', '/v1/api-keys', a.adminKey)).body.data as unknown[];
      await withFailingOutbox('api', async () => {
        const put = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
          attributes: ['nameFirst', 'emailAddress', 'birthdate'],
        });
        expect(put.status).toBeGreaterThanOrEqual(500);
        const create = await stack.call('POST', '/v1/api-keys', a.adminKey, {
          name: 'unrecorded',
          scopes: ['pii:reveal'],
        });
        expect(create.status).toBeGreaterThanOrEqual(500);
        const redact = await stack.call('DELETE', `/v1/inquiries/${aInquiries[2]!.inquiryId}`, a.adminKey);
        expect(redact.status).toBeGreaterThanOrEqual(500);
      });
      // the redaction that could not be audited was not requested either
      expect((await stack.call('GET', '/v1/redactions', a.adminKey)).body.data).toEqual([]);
      const enabled = (await stack.call('GET', '/v1/organization/enabled-attributes', a.adminKey)).body
        .attributes as string[];
      expect([...enabled].sort()).toEqual(['emailAddress', 'nameFirst']);
      expect((await stack.call('GET', '/v1/api-keys', a.adminKey)).body.data).toHaveLength(keysBefore.length);
    });
  });

  describe('the query API', () => {
    interface Entry {
      eventId: string;
      chain: string;
      seq: number;
      organizationId: string;
      occurredAt: string;
      action: string;
      actor: { type: string; id: string };
      targets: { inquiryIds?: string[] };
      entry: string;
      proof?: InclusionProof | null;
    }
    const list = async (query: string, key = auditor.secret) => {
      const res = await stack.call('GET', `/v1/audit-log/entries${query}`, key);
      expect({ query, status: res.status }).toEqual({ query, status: 200 });
      return res.body as unknown as { data: Entry[]; nextCursor: string | null };
    };
    const all = async (query: string, key = auditor.secret): Promise<Entry[]> => {
      const out: Entry[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(
          `${query}${query ? '&' : '?'}pageSize=3${cursor ? `&cursor=${cursor}` : ''}`,
          key,
        );
        expect(page.data.length).toBeLessThanOrEqual(3);
        out.push(...page.data);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };

    it('lists only the organization’s own entries, newest first, filtered and paged by cursor', async () => {
      // cursor pages of 3 give the same list as one page (compared once earlier events stop arriving)
      const everything = await expectEventually(async () => {
        const listed = (await list('?pageSize=200')).data;
        expect((await all('')).map((e) => e.eventId)).toEqual(listed.map((e) => e.eventId));
        return listed;
      });
      expect(everything.length).toBeGreaterThan(5);
      expect(everything.every((e) => e.organizationId === a.id)).toBe(true);
      // newest first, each once
      const times = everything.map((e) => Date.parse(e.occurredAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(new Set(everything.map((e) => e.eventId)).size).toBe(everything.length);
      // filters
      const reveals = await all('?action=pii.reveal');
      expect(reveals.length).toBeGreaterThan(2);
      expect(reveals.every((e) => e.action === 'pii.reveal')).toBe(true);
      const byKey = await all(`?actorId=${revealer.keyId}`);
      expect(byKey.length).toBeGreaterThan(0);
      expect(byKey.every((e) => e.actor.id === revealer.keyId)).toBe(true);
      const byOperators = await all('?actorType=operator');
      expect(byOperators.length).toBeGreaterThan(0);
      expect(byOperators.every((e) => e.chain === 'operator' && e.organizationId === a.id)).toBe(true);
      const target = aInquiries[0]!.inquiryId;
      const byInquiry = await all(`?inquiryId=${target}`);
      expect(byInquiry.length).toBeGreaterThan(0);
      expect(byInquiry.every((e) => e.targets.inquiryIds?.includes(target))).toBe(true);
      const middle = everything[Math.floor(everything.length / 2)]!.occurredAt;
      const older = await all(`?occurredBefore=${encodeURIComponent(middle)}`);
      expect(older.every((e) => e.occurredAt < middle)).toBe(true);
      expect(older.length).toBeLessThan(everything.length);
      expect(
        (await list(`?occurredAfter=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`))
          .data,
      ).toEqual([]);
      // B sees B's only; A's entries are not there for B, not even by event id
      const bEntries = await all('', b.adminKey);
      expect(bEntries.length).toBeGreaterThan(0);
      expect(bEntries.every((e) => e.organizationId === b.id)).toBe(true);
      const foreign = await stack.call(
        'GET',
        `/v1/audit-log/entries/${everything[0]!.eventId}/proof`,
        b.adminKey,
      );
      expect({ status: foreign.status, code: foreign.body.code }).toEqual({ status: 404, code: 'not_found' });
      // bad input: a clear 400
      const bad = await stack.call('GET', '/v1/audit-log/entries?cursor=not-a-cursor', auditor.secret);
      expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'invalid_request' });
    });

    it('returns inclusion proofs that verify against signed checkpoints with the published key', async () => {
      const proven = await expectEventually(async () => {
        const page = await list('?pageSize=200&includeProof=true');
        expect(page.data.every((e) => e.proof)).toBe(true);
        return page.data;
      });
      for (const e of proven) expect(checkInclusionProof(e.entry, e.proof!, publicKeyPem)).toBeUndefined();
      // an edited entry no longer matches its proof
      const edited = proven[0]!.entry.replace('"producer":"', '"producer":"not-');
      expect(checkInclusionProof(edited, proven[0]!.proof!, publicKeyPem)).toMatch(
        /does not lead to the root/,
      );
      // one entry's proof, also against an older checkpoint that covers it, and the standalone check
      const first = proven[proven.length - 1]!;
      const answer = await stack.call('GET', `/v1/audit-log/entries/${first.eventId}/proof`, auditor.secret);
      expect(answer.status).toBe(200);
      const proof = answer.body.proof as InclusionProof;
      expect(checkInclusionProof((answer.body.entry as Entry).entry, proof, publicKeyPem)).toBeUndefined();
      expect(proof.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(proof.checkpoint.treeSize)));
      const keyFile = join(work, 'key.pem');
      writeFileSync(keyFile, publicKeyPem);
      const answerFile = join(work, 'proof.json');
      writeFileSync(answerFile, answer.text);
      const ok = standaloneVerify(['--public-key', keyFile, '--proof', answerFile]);
      expect(ok.stdout).toContain('verified');
      expect(ok.status).toBe(0);
      // a proof with one sibling hash changed leads elsewhere
      expect(proof.path.length).toBeGreaterThan(0);
      const forged = [...proof.path];
      forged[0] = (forged[0]![0] === '0' ? '1' : '0') + forged[0]!.slice(1);
      writeFileSync(answerFile, JSON.stringify({ ...answer.body, proof: { ...proof, path: forged } }));
      expect(standaloneVerify(['--public-key', keyFile, '--proof', answerFile]).status).toBe(1);
    });

    it('proves that a later checkpoint extends an earlier one', async () => {
      // more activity, then a newer checkpoint
      const before = (await stack.call('GET', '/v1/audit-log/checkpoints', auditor.secret)).body.data as {
        treeSize: number;
      }[];
      const sizeBefore = before[before.length - 1]!.treeSize;
      await stack.call('GET', `/v1/inquiries/${aInquiries[1]!.inquiryId}`, revealer.secret);
      const checkpoints = await expectEventually(async () => {
        const page = (await stack.call('GET', '/v1/audit-log/checkpoints?pageSize=1000', auditor.secret)).body
          .data as { treeSize: number }[];
        expect(page[page.length - 1]!.treeSize).toBeGreaterThan(sizeBefore);
        return page;
      });
      const sizes = checkpoints.map((c) => c.treeSize);
      expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
      const [from, to] = [sizes[0]!, sizes[sizes.length - 1]!];
      const res = await stack.call('GET', `/v1/audit-log/consistency?from=${from}&to=${to}`, auditor.secret);
      expect(res.status).toBe(200);
      expect(checkConsistencyProof(res.body as unknown as ConsistencyProof, publicKeyPem)).toBeUndefined();
      // the operator chain has its own checkpoints, readable too
      const operator = await expectEventually(async () => {
        const page = await stack.call('GET', '/v1/audit-log/checkpoints?chain=operator', auditor.secret);
        expect((page.body.data as unknown[]).length).toBeGreaterThan(0);
        return page.body.data as { chain: string }[];
      });
      expect(operator.every((c) => c.chain === 'operator')).toBe(true);
      expect(
        (await stack.call('GET', `/v1/audit-log/consistency?from=${to}&to=${from}`, auditor.secret)).status,
      ).toBe(from === to ? 200 : 400);
      expect(
        (await stack.call('GET', `/v1/audit-log/consistency?from=1&to=999999999`, auditor.secret)).status,
      ).toBe(404);
    });

    it('exports the organization’s chain for the standalone verifier, which accepts it and rejects an edited copy', async () => {
      const res = await stack.call('GET', '/v1/audit-log/export', auditor.secret);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/x-ndjson');
      const lines = res.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { checkpoint?: { chain: string }; entry?: string });
      expect(lines.filter((l) => l.checkpoint).every((l) => l.checkpoint!.chain === `org:${a.id}`)).toBe(
        true,
      );
      const entries = lines.filter((l) => l.entry).map((l) => JSON.parse(l.entry!) as AuditLogEntry);
      expect(entries.length).toBeGreaterThan(5);
      expect(entries.every((e) => e.chain === `org:${a.id}` && e.organizationId === a.id)).toBe(true);
      const keyFile = join(work, 'key.pem');
      writeFileSync(keyFile, publicKeyPem);
      const file = join(work, 'export.jsonl');
      writeFileSync(file, res.text);
      // this test waits for no checkpoint: entries logged after the newest are reported, not verified
      const chainArgs = ['--public-key', keyFile, '--chain', `org:${a.id}`, '--allow-unsigned-tail'];
      const honest = standaloneVerify([...chainArgs, file]);
      expect(honest.stdout).toContain(`verified: org:${a.id}`);
      expect(honest.status).toBe(0);
      const tampered = join(work, 'tampered.jsonl');
      writeFileSync(
        tampered,
        readFileSync(file, 'utf8').replace('"outcome\\":\\"allowed', '"outcome\\":\\"denied'),
      );
      expect(readFileSync(tampered, 'utf8')).not.toEqual(res.text);
      const rejected = standaloneVerify([...chainArgs, tampered]);
      expect(rejected.stderr).toContain('NOT VERIFIED');
      expect(rejected.status).toBe(1);
    });
  });

  it('keeps every canary out of the audit-log schema and the audit.events topic', async () => {
    const canaries = [...aInquiries, ...bInquiries].flatMap((i) =>
      Object.values(i.attributes)
        .flat()
        .filter((v) => v.includes('CANARY-')),
    );
    const hits = await scanForCanaries({
      canaries,
      databaseUrl: adminDatabaseUrl(),
      schemas: ['audit_log'],
      topics: ['audit.events'],
      logPaths: [stack.auditLog.logFile],
    });
    expect(hits).toEqual([]);
  });
});
