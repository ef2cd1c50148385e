import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PII_ATTRIBUTES } from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';
import { adminQuery, canary, expectEventually } from '@veil/testing';

import { AuditExportLine } from '../src/http/api-schemas';
import { ApiStack, inquiry } from './api-stack';
import { answerBytes, type Exchange, readExchanges, type RunReport, run, schemathesis } from './schemathesis';

jest.setTimeout(300_000);

/** Fixed, so a failure reproduces (`st run … --seed`). */
const SEED = 20261125;
/** Per operation and phase: each of the three runs takes 20-40 s on 2 cores. */
const MAX_EXAMPLES = 25;
const RUN_TIMEOUT_MS = 120_000;
const OPERATIONS = 24;

/**
 * Answers a request conforming to the document may still get, by the state it meets: a cursor Veil
 * did not issue, `from` > `to`, an expiry already past (400), an Idempotency-Key used before for
 * another request (422). Schemathesis is told to accept 400 and 422 on these operations; the test
 * then checks that each such answer gives exactly one of these reasons.
 */
const STATE_DEPENDENT = {
  operations: [
    'listInquiries',
    'listAuditEntries',
    'getAuditConsistencyProof',
    'createApiKey',
    'revokeApiKey',
    'redactInquiry',
    'createRedaction',
    'listRedactions',
    'putRetentionPolicy',
    'createLegalHold',
    'releaseLegalHold',
  ],
  400: [
    'query.cursor: invalid',
    'query.from: too_big',
    'body.expiresAt: in_the_past',
    'body.rules: duplicate_template',
  ],
  422: ['idempotency_key_reused'],
};

/** Checks whose every verdict must be a pass, and that must each have judged many answers. */
const CONFORMANCE_CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
];

interface Org {
  id: string;
  adminKey: string;
}

/** What the fuzzer mixes into generated values, so A's keys really ask for B's objects (and A's). */
interface Seeds {
  aInquiryIds: string[];
  bInquiryIds: string[];
  bReferenceIds: string[];
  bKeyIds: string[];
  eventIds: string[];
}

function configFile(dir: string, seeds: Seeds): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const path = join(dir, 'schemathesis.toml');
  writeFileSync(
    path,
    `
# no crash cache in the work tree: a failure is reproduced from the seed
[cache]
enabled = false

[dictionaries.b-inquiries]
values = ${list(seeds.bInquiryIds)}
[dictionaries.any-inquiries]
values = ${list([...seeds.aInquiryIds, ...seeds.bInquiryIds])}
[dictionaries.b-references]
values = ${list(seeds.bReferenceIds)}
[dictionaries.b-keys]
values = ${list(seeds.bKeyIds)}
[dictionaries.events]
values = ${list(seeds.eventIds)}

[parameters]
"path.inquiryId" = { dictionary = "b-inquiries", probability = 0.3 }
"query.inquiryId" = { dictionary = "any-inquiries", probability = 0.3 }
"query.referenceId" = { dictionary = "b-references", probability = 0.3 }
"path.keyId" = { dictionary = "b-keys", probability = 0.3 }
"path.eventId" = { dictionary = "events", probability = 0.5 }

# A's own inquiries too, where reading them is allowed
[[operations]]
include-operation-id = "getInquiry"
parameters = { "path.inquiryId" = { dictionary = "any-inquiries", probability = 0.5 } }

[[operations]]
include-operation-id = ${list(STATE_DEPENDENT.operations)}
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
`,
  );
  return path;
}

function reasonOf(exchange: Exchange): string {
  const body = JSON.parse(exchange.body.toString('utf8')) as {
    code: string;
    details?: { fields?: { path: string; issue: string }[] };
  };
  return exchange.status === 400
    ? (body.details?.fields ?? []).map((f) => `${f.path}: ${f.issue}`).join('; ')
    : body.code;
}

describe('OpenAPI-driven fuzzing of the customer API (schemathesis, --checks all)', () => {
  let stack: ApiStack;
  let cli: string;
  let config: string;
  let a: Org;
  let b: Org;
  let aReader: string;
  const bInquiries = [inquiry(canary('B')), inquiry(canary('B'))];
  /** Every value of B's that A must never see: ids, reference ids, attributes. */
  const bSecrets = () =>
    bInquiries.flatMap((i) => [i.inquiryId, i.referenceId!, ...Object.values(i.attributes).flat()]);

  beforeAll(async () => {
    [cli, stack] = await Promise.all([schemathesis(), ApiStack.start()]);
    a = await stack.organization();
    b = await stack.organization();
    aReader = (await stack.key(a.id, ['inquiry:read', 'audit:read'])).secret;
    const bKey = await stack.key(b.id, ['inquiry:read']);
    const aInquiries = [inquiry('fuzz-a')];
    await stack.inquiries(a.id, a.adminKey, aInquiries);
    await stack.inquiries(b.id, b.adminKey, bInquiries);
    // B reveals everything: a leak to A would be plaintext
    const reveal = await stack.call('PUT', '/v1/organization/enabled-attributes', b.adminKey, {
      attributes: [...PII_ATTRIBUTES],
    });
    expect(reveal.status).toBe(200);
    const eventIds = await expectEventually(async () => {
      const rows = await adminQuery<{ event_id: string }>(
        `select event_id from audit_log.entries where organization_id = any($1::text[])`,
        [[a.id, b.id]],
      );
      expect(rows.length).toBeGreaterThan(0);
      return rows.map((r) => r.event_id);
    });
    config = configFile(mkdtempSync(join(tmpdir(), 'veil-fuzz-')), {
      aInquiryIds: aInquiries.map((i) => i.inquiryId),
      bInquiryIds: bInquiries.map((i) => i.inquiryId),
      bReferenceIds: bInquiries.map((i) => i.referenceId!),
      bKeyIds: [bKey.keyId],
      eventIds,
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function fuzz(key: string | undefined) {
    const reports = mkdtempSync(join(tmpdir(), 'veil-fuzz-run-'));
    const started = Date.now();
    const done = await run(
      cli,
      [
        '--config-file',
        config,
        '--no-color',
        'run',
        join(REPO_ROOT, 'docs', 'openapi.json'),
        '--url',
        stack.api.baseUrl,
        ...(key ? ['--header', `Authorization: Bearer ${key}`] : []),
        '--checks',
        'all',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        String(SEED),
        '--generation-database',
        'none',
        // the recording must hold the answers byte for byte, for the canary scan
        '--output-sanitize',
        'false',
        '--report',
        'json,ndjson',
        '--report-json-path',
        join(reports, 'report.json'),
        '--report-ndjson-path',
        join(reports, 'events.ndjson'),
      ],
      RUN_TIMEOUT_MS,
      reports, // whatever Hypothesis or schemathesis keep on disk stays out of the work tree
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    expect({ timedOut: done.timedOut }).toEqual({ timedOut: false });
    const report = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')) as RunReport;
    const exchanges = readExchanges(join(reports, 'events.ndjson'));
    process.stdout.write(
      `schemathesis (${key ? 'key' : 'no key'}): ${seconds} s, ${report.test_cases.generated} cases, ` +
        `${exchanges.length} answers, ${report.failures.length} failure groups; reports in ${reports}\n`,
    );
    return { done, report, exchanges };
  }

  /** What every run must show, whoever calls. */
  function expectConformance(
    { done, report, exchanges }: Awaited<ReturnType<typeof fuzz>>,
    minimumAnswers: number,
  ): void {
    expect({ complete: report.complete, errors: report.errors }).toEqual({ complete: true, errors: [] });
    expect(report.operations).toMatchObject({ total: OPERATIONS, tested: OPERATIONS, errored: 0 });
    // the failures schemathesis found, each with its operations; the output says how to reproduce them
    expect({
      failures: report.failures,
      output: report.failures.length ? done.output.slice(-8_000) : '',
    }).toEqual({
      failures: [],
      output: '',
    });
    expect(done.code).toBe(0);
    expect(exchanges.length).toBeGreaterThanOrEqual(minimumAnswers);
    const serverErrors = exchanges.filter((e) => e.status >= 500);
    expect(serverErrors.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
    for (const check of CONFORMANCE_CHECKS) {
      const verdicts = exchanges.flatMap((e) => e.checks.filter((c) => c.name === check));
      expect({ check, failed: verdicts.filter((v) => v.status !== 'success').length }).toEqual({
        check,
        failed: 0,
      });
      expect({ check, judged: verdicts.length > minimumAnswers / 2 }).toEqual({ check, judged: true });
    }
    // valid requests are refused only for the documented, state-dependent reasons
    const refused = exchanges.filter((e) => e.mode === 'positive' && (e.status === 400 || e.status === 422));
    const unexplained = refused
      .map((e) => ({ e, reason: reasonOf(e) }))
      .filter(({ e, reason }) => !STATE_DEPENDENT[e.status as 400 | 422].includes(reason));
    expect(unexplained.map(({ e, reason }) => `${e.method} ${e.path} ${e.status} ${reason}`)).toEqual([]);
    // a method a path does not have: 405 with Allow (schemathesis' unsupported_method check)
    const unsupported = exchanges.filter((e) => e.status === 405);
    expect(unsupported.length).toBeGreaterThan(0);
    for (const e of unsupported)
      expect(e.headers.allow?.[0]).toMatch(/^(GET|PUT|POST|DELETE)(, (GET|PUT|POST|DELETE))*$/);
  }

  it('refuses U+0000 and unpaired surrogates with 400 naming the field, and undocumented methods with 405', async () => {
    const before = (await stack.call('GET', '/v1/api-keys', a.adminKey)).body.data as unknown[];
    for (const name of ['null\u0000byte', 'lone\ud800surrogate', '\udc00']) {
      const created = await stack.call('POST', '/v1/api-keys', a.adminKey, {
        name,
        scopes: ['inquiry:read'],
      });
      expect({ status: created.status, body: created.body }).toMatchObject({
        status: 400,
        body: {
          code: 'invalid_request',
          details: { fields: [{ path: 'body.name', issue: 'invalid_characters' }] },
        },
      });
    }
    expect((await stack.call('GET', '/v1/api-keys', a.adminKey)).body.data).toHaveLength(before.length);
    const query = await stack.call('GET', '/v1/inquiries?referenceId=a%00b', a.adminKey);
    expect(query.body).toMatchObject({
      details: { fields: [{ path: 'query.referenceId', issue: 'invalid_characters' }] },
    });
    const list = await stack.call('PUT', '/v1/organization/enabled-attributes', a.adminKey, {
      attributes: ['\u0000'],
    });
    expect(list.body).toMatchObject({
      details: {
        fields: expect.arrayContaining([{ path: 'body.attributes.0', issue: 'invalid_characters' }]),
      },
    });

    const patch = await stack.call('PATCH', '/v1/inquiries', a.adminKey);
    expect({ status: patch.status, allow: patch.headers.get('allow'), code: patch.body.code }).toEqual({
      status: 405,
      allow: 'GET',
      code: 'method_not_allowed',
    });
    expect(patch.body.requestId).toBe(patch.headers.get('request-id'));
    const post = await stack.call('POST', `/v1/inquiries/${bInquiries[0]!.inquiryId}`);
    expect({ status: post.status, allow: post.headers.get('allow') }).toEqual({
      status: 405,
      allow: 'GET, DELETE',
    });
    expect((await stack.call('PATCH', '/v1/undocumented', a.adminKey)).status).toBe(404);
  });

  it('with A’s admin key: no server error, every answer as documented, nothing of B’s', async () => {
    const result = await fuzz(a.adminKey);
    expectConformance(result, 500);
    const { exchanges } = result;
    expect(exchanges.filter((e) => e.status >= 200 && e.status < 300).length).toBeGreaterThan(100);

    const leaks = exchanges.filter((e) => bSecrets().some((secret) => answerBytes(e).includes(secret)));
    expect(leaks.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);

    // the export (application/x-ndjson, which schemathesis cannot validate): every line as documented
    const exports = exchanges.filter((e) => e.path === '/v1/audit-log/export' && e.status === 200);
    expect(exports.length).toBeGreaterThan(0);
    const undocumented = exports.flatMap((e) =>
      e.body
        .toString('utf8')
        .split('\n')
        .filter((line) => line && !AuditExportLine.safeParse(JSON.parse(line)).success)
        .map((line) => Object.keys(JSON.parse(line) as object).join(',')),
    );
    expect(undocumented).toEqual([]);

    // the fuzzer's own key is still good: nothing it sent broke A's access
    expect((await stack.call('GET', '/v1/organization', a.adminKey)).status).toBe(200);
  });

  it('with A’s read-only key: the same, and nothing but reads succeeds', async () => {
    const result = await fuzz(aReader);
    expectConformance(result, 400);
    const { exchanges } = result;
    const leaks = exchanges.filter((e) => bSecrets().some((secret) => answerBytes(e).includes(secret)));
    expect(leaks.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
    const writes = exchanges.filter((e) => e.method !== 'GET' && e.status >= 200 && e.status < 300);
    expect(writes.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
  });

  it('without a key: the same, and no 2xx at all', async () => {
    const result = await fuzz(undefined);
    expectConformance(result, 300);
    const answered = result.exchanges.filter((e) => e.status < 300);
    expect(answered.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
  });
});
