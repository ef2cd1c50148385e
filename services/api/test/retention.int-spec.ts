import { adminQuery, canary, expectEventually } from '@veil/testing';

import { ApiStack, type HttpAnswer, inquiry } from './api-stack';

jest.setTimeout(300_000);

const DAY_MS = 24 * 60 * 60 * 1000;
/** The retention service's clock this far ahead (test builds only). */
const ahead = (days: number) => ({ NODE_ENV: 'test', RETENTION_TEST_CLOCK_OFFSET_MS: String(days * DAY_MS) });

describe('retention policies and legal holds', () => {
  let stack: ApiStack;
  let a: { id: string; adminKey: string };
  let b: { id: string; adminKey: string };

  const redactedAt = async (org: { adminKey: string }, inquiryId: string): Promise<unknown> => {
    const res = await stack.call('GET', `/v1/inquiries/${inquiryId}`, org.adminKey);
    expect(res.status).toBe(200);
    return res.body.redactedAt;
  };

  /** Redactions the vault received from retention for an organization, and the inquiries they redacted. */
  const retentionRedactions = async (organizationId: string) => {
    const [row] = await adminQuery<{ requests: number; redacted: number; events: number }>(
      `select (select count(*)::int from vault.redactions where organization_id = $1 and reason = 'retention_policy') as requests,
              (select count(*)::int from vault.redacted_inquiries l join vault.redactions r using (organization_id, redaction_id)
                where l.organization_id = $1 and r.reason = 'retention_policy') as redacted,
              (select count(*)::int from retention.outbox where organization_id = $1 and topic = 'pii.redaction.requested') as events`,
      [organizationId],
    );
    return row!;
  };

  const putPolicy = async (org: { adminKey: string }, rules: unknown[]): Promise<HttpAnswer> => {
    const res = await stack.call('PUT', '/v1/retention-policy', org.adminKey, { rules });
    expect(res.status).toBe(200);
    return res;
  };

  const preview = async (org: { adminKey: string }, days: number) => {
    const res = await stack.call('GET', `/v1/retention-policy/preview?days=${days}`, org.adminKey);
    expect(res.status).toBe(200);
    return res.body as {
      total: number;
      byTemplate: { templateId: string; count: number }[];
      held: unknown[];
    };
  };

  beforeAll(async () => {
    stack = await ApiStack.start();
    a = await stack.organization();
    b = await stack.organization();
    // the key registry picks new keys up within a refresh
    for (const org of [a, b])
      await expectEventually(async () =>
        expect((await stack.call('GET', '/v1/retention-policy', org.adminKey)).status).toBe(200),
      );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('redacts exactly the inquiries a 30-day policy makes due, once, as previewed; a legal hold keeps its inquiries, with its basis', async () => {
    const reference = `held-person-${canary('H')}`;
    const due = [1, 2, 3].map(() => inquiry(canary('D')));
    const longer = [1, 2].map(() => ({ ...inquiry(canary('K')), templateId: 'itmpl_keep' }));
    const pending = { ...inquiry(canary('P')), status: 'pending' as const, templateId: 'itmpl_terminal' };
    const heldById = inquiry(canary('HI'));
    const heldBySubject = { ...inquiry(canary('HS')), referenceId: reference };
    const otherOrganization = [inquiry(canary('B'))];
    await stack.inquiries(a.id, a.adminKey, [...due, ...longer, pending, heldById, heldBySubject]);
    await stack.inquiries(b.id, b.adminKey, otherOrganization);

    // no policy: nothing is ever due
    expect(await stack.call('GET', '/v1/retention-policy', a.adminKey)).toMatchObject({
      status: 200,
      body: { rules: [], updatedAt: null },
    });
    expect((await preview(a, 3650)).total).toBe(0);

    // legal holds: one inquiry, and every inquiry of one person (by reference id)
    const hold1 = await stack.call('POST', '/v1/legal-holds', a.adminKey, {
      inquiryId: heldById.inquiryId,
      basis: 'AML record keeping (5 years)',
    });
    expect(hold1.status).toBe(201);
    expect(hold1.body).toMatchObject({
      id: expect.stringMatching(/^hold_/),
      type: 'legal_hold',
      releasedAt: null,
    });
    const hold2 = await stack.call('POST', '/v1/legal-holds', a.adminKey, {
      referenceId: reference,
      basis: 'litigation hold 2026-114',
      expiresAt: new Date(Date.now() + 365 * DAY_MS).toISOString(),
    });
    expect(hold2.status).toBe(201);
    expect(hold2.body.target).toEqual({ kind: 'subject' });
    expect(hold2.text).not.toContain(reference);
    // B cannot see or release A's holds, nor hold A's inquiries
    expect(
      (await stack.call('DELETE', `/v1/legal-holds/${hold1.body.id as string}`, b.adminKey)).status,
    ).toBe(404);
    expect(
      (await stack.call('POST', '/v1/legal-holds', b.adminKey, { inquiryId: due[0]!.inquiryId, basis: 'x' }))
        .status,
    ).toBe(404);
    expect((await stack.call('GET', '/v1/legal-holds', b.adminKey)).body.data).toEqual([]);

    // 30 days after creation by default, 90 for itmpl_keep; itmpl_terminal only once in a final status
    const put = await putPolicy(a, [
      { after: 'created', days: 30 },
      { templateId: 'itmpl_keep', after: 'created', days: 90 },
      { templateId: 'itmpl_terminal', after: 'terminal_status', days: 1 },
    ]);
    expect(put.body.updatedAt).toEqual(expect.any(String));
    expect((await stack.call('GET', '/v1/retention-policy', a.adminKey)).body.rules).toHaveLength(3);
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries where organization_id = $1 and action = 'retention.policy_changed'`,
        [a.id],
      );
      expect(row!.n).toBe(1);
    });

    expect((await preview(a, 29)).total).toBe(0);
    const window = await preview(a, 31);
    expect(window).toMatchObject({
      total: 3,
      byTemplate: [{ templateId: 'itmpl_api', count: 3 }],
      held: [
        { basis: 'AML record keeping (5 years)', count: 1 },
        { basis: 'litigation hold 2026-114', count: 1 },
      ],
    });

    // 31 days later: exactly what the preview said, once
    await stack.restartRetention(ahead(31));
    await expectEventually(async () => {
      for (const i of due) expect(await redactedAt(a, i.inquiryId)).toEqual(expect.any(String));
    });
    for (const i of [...longer, pending, heldById, heldBySubject])
      expect(await redactedAt(a, i.inquiryId)).toBeNull();
    expect(await redactedAt(b, otherOrganization[0]!.inquiryId)).toBeNull();
    expect(await retentionRedactions(a.id)).toEqual({ requests: 3, redacted: 3, events: 3 });
    expect(await retentionRedactions(b.id)).toEqual({ requests: 0, redacted: 0, events: 0 });
    // still nothing more after further ticks
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await retentionRedactions(a.id)).toEqual({ requests: 3, redacted: 3, events: 3 });

    // a subject redaction skips the held inquiry too, and says why
    const subject = await stack.call('POST', '/v1/redactions', a.adminKey, { referenceId: reference });
    expect(subject.status).toBe(202);
    const done = await expectEventually(async () => {
      const res = await stack.call('GET', `/v1/redactions/${subject.body.id as string}`, a.adminKey);
      expect(res.body.status).toBe('completed');
      return res.body;
    });
    expect(done).toMatchObject({
      inquiriesRedacted: 0,
      held: [
        { inquiryId: heldBySubject.inquiryId, holdId: hold2.body.id, basis: 'litigation hold 2026-114' },
      ],
    });
    expect(await redactedAt(a, heldBySubject.inquiryId)).toBeNull();

    // shortening applies to old inquiries: itmpl_keep at 10 days is due at once (the clock is 31 days on)
    await putPolicy(a, [
      { after: 'created', days: 30 },
      { templateId: 'itmpl_keep', after: 'created', days: 10 },
      { templateId: 'itmpl_terminal', after: 'terminal_status', days: 1 },
    ]);
    expect(await preview(a, 0)).toMatchObject({
      total: 2,
      byTemplate: [{ templateId: 'itmpl_keep', count: 2 }],
    });
    await expectEventually(async () => {
      for (const i of longer) expect(await redactedAt(a, i.inquiryId)).toEqual(expect.any(String));
    });

    // releasing a hold lets retention go on with that inquiry
    const released = await stack.call('DELETE', `/v1/legal-holds/${hold1.body.id as string}`, a.adminKey);
    expect(released).toMatchObject({ status: 200, body: { releasedAt: expect.any(String) } });
    await expectEventually(async () =>
      expect(await redactedAt(a, heldById.inquiryId)).toEqual(expect.any(String)),
    );
    expect(await redactedAt(a, heldBySubject.inquiryId)).toBeNull(); // still held
    expect(await redactedAt(a, pending.inquiryId)).toBeNull(); // never in a final status
    const active = (await stack.call('GET', '/v1/legal-holds', a.adminKey)).body.data as { id: string }[];
    expect(active.map((h) => h.id)).toEqual([hold2.body.id]);
    const all = (await stack.call('GET', '/v1/legal-holds?includeReleased=true', a.adminKey)).body
      .data as unknown[];
    expect(all).toHaveLength(2);
    expect(await retentionRedactions(a.id)).toEqual({ requests: 6, redacted: 6, events: 6 });
  });

  it('lengthening a policy stops pending redactions', async () => {
    await stack.restartRetention();
    const org = await stack.organization();
    await expectEventually(async () =>
      expect((await stack.call('GET', '/v1/retention-policy', org.adminKey)).status).toBe(200),
    );
    const items = [inquiry(canary('L')), inquiry(canary('L'))];
    await stack.inquiries(org.id, org.adminKey, items);
    await putPolicy(org, [{ after: 'created', days: 5 }]);
    expect((await preview(org, 6)).total).toBe(2);
    await putPolicy(org, [{ after: 'created', days: 45 }]);
    expect((await preview(org, 6)).total).toBe(0);
    await stack.restartRetention(ahead(6));
    await new Promise((r) => setTimeout(r, 2_000));
    for (const i of items) expect(await redactedAt(org, i.inquiryId)).toBeNull();
    expect(await retentionRedactions(org.id)).toEqual({ requests: 0, redacted: 0, events: 0 });
  });

  it('redacts nothing twice and misses nothing when the retention service is killed mid-run', async () => {
    await stack.restartRetention();
    const org = await stack.organization();
    await expectEventually(async () =>
      expect((await stack.call('GET', '/v1/retention-policy', org.adminKey)).status).toBe(200),
    );
    const items = Array.from({ length: 200 }, () => inquiry(canary('C')));
    await stack.inquiries(org.id, org.adminKey, items);
    await putPolicy(org, [{ after: 'created', days: 30 }]);
    expect((await preview(org, 31)).total).toBe(200);

    await stack.restartRetention({ ...ahead(31), RETENTION_BATCH: '5' });
    // kill -9 once it has requested some, not all
    await expectEventually(
      async () => {
        const { events } = await retentionRedactions(org.id);
        expect(events).toBeGreaterThan(0);
      },
      { intervalMs: 20 },
    );
    await stack.retention.kill();
    const atKill = (await retentionRedactions(org.id)).events;
    process.stdout.write(`retention killed after requesting ${atKill} of 200\n`);

    await stack.restartRetention(ahead(31));
    await expectEventually(
      async () =>
        expect(await retentionRedactions(org.id)).toEqual({ requests: 200, redacted: 200, events: 200 }),
      {
        timeoutMs: 120_000,
      },
    );
    const [plans] = await adminQuery<{ requested: number; distinct_ids: number }>(
      `select count(*) filter (where requested_at is not null)::int as requested, count(distinct redaction_id)::int as distinct_ids
         from retention.planned_inquiries where organization_id = $1`,
      [org.id],
    );
    expect(plans).toEqual({ requested: 200, distinct_ids: 200 });
    for (const i of items.slice(0, 5)) expect(await redactedAt(org, i.inquiryId)).toEqual(expect.any(String));
  });
});
