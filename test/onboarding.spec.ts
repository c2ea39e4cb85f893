import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { systemContext, type RequestContext } from '../src/common/request-context.js';
import { OnboardingReviewService } from '../src/onboarding/onboarding-review.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { REFERENCE_PATTERN } from '../src/onboarding/onboarding.tokens.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

let t: TestApp;
let svc: OnboardingService;
let review: OnboardingReviewService;
let creator: StaffLogin;
let reviewer: StaffLogin;
let viewer: StaffLogin;

beforeAll(async () => {
  t = await startTestApp();
  svc = t.app.get(OnboardingService);
  review = t.app.get(OnboardingReviewService);
  [creator, reviewer, viewer] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Creator Reviewer' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Second Reviewer' }),
    createStaffWithSession(t, { role: 'viewer' }),
  ]);
});
afterAll(() => t.close());

let seq = 0;
function body(over: Record<string, unknown> = {}) {
  seq += 1;
  return {
    partner: { legalName: `Voorbeeld ${seq} B.V.`, registrationNumber: `${10000000 + seq}`, country: 'NL' },
    contact: { name: 'Jan Smit', email: `jan${seq}@example.com`, mobile: '+31612345678' },
    language: 'en',
    purpose: 'Employees order lunch through our app and pay with their cafetaria budget.',
    items: [
      { api: 'cafetariaplan', environment: 'acceptance' },
      { api: 'cafetariaplan', environment: 'production' },
    ],
    ...over,
  };
}

async function create(over: Record<string, unknown> = {}, as: StaffLogin = creator) {
  const res = await t.inject({ method: 'POST', url: '/api/onboarding-requests', headers: as.headers, payload: body(over) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; reference: string; statusUrl: string };
}

const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });
const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: viewer.headers })).json();

async function counts() {
  return { requests: await t.prisma.onboardingRequest.count(), partners: await t.prisma.partner.count(), contacts: await t.prisma.technicalContact.count() };
}

describe("creating requests on a partner's behalf (JSON)", () => {
  it('gives a human-friendly reference and a status link, audits it, and reuses the partner for the same registration number + country', async () => {
    const b = body();
    const first = await t.inject({ method: 'POST', url: '/api/onboarding-requests', headers: creator.headers, payload: b });
    expect(first.statusCode, first.body).toBe(201);
    const { id, reference, statusUrl } = first.json();
    expect(reference).toMatch(REFERENCE_PATTERN);
    expect(statusUrl).toMatch(/^http:\/\/localhost:3000\/requests\/[A-Za-z0-9_-]{43}$/);
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } });
    expect(row.statusTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.statusTokenHash).not.toContain(statusUrl.split('/').pop());
    expect(JSON.stringify(row)).not.toContain(statusUrl.split('/').pop());
    expect(row).toMatchObject({ state: 'submitted', version: 1, createdByStaffId: creator.staffId, lastEditedById: creator.staffId });

    const again = await t.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: creator.headers,
      payload: {
        ...b,
        partner: {
          ...b.partner,
          legalName: 'Another name',
          registrationNumber: ` ${b.partner.registrationNumber.slice(0, 4)}.${b.partner.registrationNumber.slice(4)} `,
        },
      },
    });
    expect(again.statusCode).toBe(201);
    const second = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: again.json().id } });
    expect(second.partnerId).toBe(row.partnerId);
    expect(second.contactId).toBe(row.contactId);
    expect((await t.prisma.partner.findUniqueOrThrow({ where: { id: row.partnerId } })).legalName).toBe(b.partner.legalName);

    const audit = await t.prisma.auditEvent.findMany({ where: { subjectType: 'onboarding_request', subjectId: id } });
    expect(audit).toEqual([expect.objectContaining({ action: 'onboarding.submitted', actorType: 'staff', actorId: creator.staffId })]);
  });

  it("keeps one partner when the same organisation applies many times at once, and never lets an application change a contact's mobile", async () => {
    const b = body();
    const results = await Promise.all(Array.from({ length: 10 }, () => post('/api/onboarding-requests', creator, b)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    const partners = await t.prisma.partner.findMany({ where: { registrationNumber: b.partner.registrationNumber } });
    expect(partners).toHaveLength(1);
    const other = await post('/api/onboarding-requests', creator, { ...b, contact: { ...b.contact, mobile: '+31687654321' } });
    const contacts = await t.prisma.technicalContact.findMany({ where: { partnerId: partners[0].id }, orderBy: { createdAt: 'asc' } });
    expect(contacts.map((c) => c.mobile)).toEqual(['+31612345678', '+31687654321']);
    expect((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: other.json().id } })).contactId).toBe(contacts[1].id);
  });

  it('refuses bad input with field messages and saves nothing', async () => {
    const before = await counts();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ contact: { name: 'Jan', email: 'not-an-email', mobile: '+31612345678' } }, 'request/validation_failed', 'contact.email'],
      [{ contact: { name: 'Jan', email: 'jan@example.com', mobile: '0612345678' } }, 'request/validation_failed', 'contact.mobile'],
      [{ contact: { name: 'Jan', email: 'jan@example.com', mobile: '+31851234567' } }, 'request/validation_failed', 'contact.mobile'],
      [{ purpose: 'x'.repeat(2001) }, 'request/validation_failed', 'purpose'],
      [{ purpose: 12345 }, 'request/validation_failed', 'purpose'],
      [{ items: 'business' }, 'request/validation_failed', 'items'],
      [{ items: [{ api: 'business', environment: 'staging' }] }, 'request/validation_failed', 'items.0.environment'],
      [{ language: 'de' }, 'request/validation_failed', 'language'],
      [{ partner: { legalName: 'X'.repeat(201), registrationNumber: '1', country: 'Netherlands' } }, 'request/validation_failed', 'partner.country'],
      [{ admin: true }, 'request/validation_failed', 'admin'],
    ];
    for (const [over, code, field] of cases) {
      const res = await post('/api/onboarding-requests', creator, body(over));
      expect(res.statusCode, JSON.stringify(over)).toBe(400);
      expect(res.json().code).toBe(code);
      expect(Object.keys(res.json().details.fields), JSON.stringify(over)).toContain(field);
    }
    const voip = await post('/api/onboarding-requests', creator, body({ contact: { name: 'Jan', email: 'jan@example.com', mobile: '+31851234567' } }));
    expect(voip.json().details.fields['contact.mobile'][0]).toMatch(/VoIP/);

    const unknown = await post('/api/onboarding-requests', creator, body({ items: [{ api: 'payments', environment: 'acceptance' }] }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      code: 'onboarding/unknown_api',
      details: { unknown: ['payments:acceptance'], fields: { items: [expect.stringContaining('business')] } },
    });

    const notJson = await t.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: { ...creator.headers, 'content-type': 'application/json' },
      payload: '{"partner":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('lets a viewer read but not act, and needs a session at all', async () => {
    const { id } = await create();
    expect((await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: viewer.headers })).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/start-review`, viewer)).json().code).toBe('auth/role_required');
    expect((await post('/api/onboarding-requests', viewer, body())).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'GET', url: '/api/onboarding-requests/not-a-uuid', headers: viewer.headers })).json().code).toBe('onboarding/not_found');
  });
});

describe('review, four-eyes and per-environment approval', () => {
  it('walks submitted -> in review -> Acceptance -> Production -> approved, refusing the creator and Production first', async () => {
    const { id } = await create();
    expect((await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/invalid_transition');
    const started = await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({ state: 'in_review', version: 2, reviewStartedById: reviewer.staffId });

    const own = await post(`/api/onboarding-requests/${id}/approvals`, creator, { environment: 'acceptance' });
    expect(own.statusCode).toBe(403);
    expect(own.json().code).toBe('onboarding/four_eyes');

    const prodFirst = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'production' });
    expect(prodFirst.statusCode).toBe(409);
    expect(prodFirst.json().code).toBe('onboarding/acceptance_first');

    const acc = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    expect(acc.statusCode, acc.body).toBe(200);
    expect(acc.json()).toMatchObject({
      state: 'in_review',
      approvals: [expect.objectContaining({ environment: 'acceptance', status: 'valid', approvedById: reviewer.staffId })],
    });
    expect((await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/already_approved');

    const prod = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'production' });
    expect(prod.statusCode).toBe(200);
    expect(prod.json().state).toBe('approved');
    expect(
      prod
        .json()
        .approvals.map((a: { environment: string }) => a.environment)
        .sort(),
    ).toEqual(['acceptance', 'production']);

    const audit = await t.prisma.auditEvent.findMany({ where: { subjectType: 'onboarding_request', subjectId: id }, orderBy: { seq: 'asc' } });
    expect(audit.map((a) => [a.action, a.environment, (a.detail as { from?: string }).from, (a.detail as { to?: string }).to])).toEqual([
      ['onboarding.submitted', null, undefined, 'submitted'],
      ['onboarding.review_started', null, 'submitted', 'in_review'],
      ['onboarding.approved', 'acceptance', 'in_review', 'in_review'],
      ['onboarding.approved', 'production', 'in_review', 'approved'],
    ]);
    for (const a of audit) expect(a.correlationId).toBeTruthy();
    expect(audit[1].actorId).toBe(reviewer.staffId);
  });

  it('approves a Production-only request directly', async () => {
    const { id } = await create({ items: [{ api: 'business', environment: 'production' }] });
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const res = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'production' });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('approved');
    expect((await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' })).json().code).toBe(
      'onboarding/environment_not_requested',
    );
  });

  it('refuses approval by whoever last edited the request, and by its creator, but not by a third reviewer', async () => {
    const third = await createStaffWithSession(t, { role: 'admin' });
    const { id } = await create({ items: [{ api: 'communities', environment: 'acceptance' }] });
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const edited = await t.inject({
      method: 'PATCH',
      url: `/api/onboarding-requests/${id}`,
      headers: reviewer.headers,
      payload: { purpose: 'A community platform for our customers and their neighbourhoods.', version: 2 },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ lastEditedById: reviewer.staffId, version: 3, state: 'in_review' });
    expect((await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/four_eyes');
    expect((await post(`/api/onboarding-requests/${id}/approvals`, creator, { environment: 'acceptance' })).json().code).toBe('onboarding/four_eyes');
    const ok = await post(`/api/onboarding-requests/${id}/approvals`, third, { environment: 'acceptance' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().state).toBe('approved');
    const edit = await t.inject({
      method: 'PATCH',
      url: `/api/onboarding-requests/${id}`,
      headers: reviewer.headers,
      payload: { purpose: 'Too late to change what was approved here.' },
    });
    expect(edit.json().code).toBe('onboarding/invalid_transition');
  });

  it('refuses a stale version with onboarding/conflict', async () => {
    const { id } = await create();
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer, { version: 1 });
    const stale = await post(`/api/onboarding-requests/${id}/reject`, reviewer, { reason: 'We cannot offer this API to you.', version: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'onboarding/conflict', details: { expectedVersion: 1, currentVersion: 2 } });
  });

  it('lets exactly one of 50 concurrent approvals win', async () => {
    const { id } = await create({ items: [{ api: 'business', environment: 'acceptance' }] });
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' })),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((x) => x.statusCode === 409))
      expect(['onboarding/conflict', 'onboarding/invalid_transition', 'onboarding/already_approved']).toContain(r.json().code);
    expect(await t.prisma.onboardingApproval.count({ where: { requestId: id } })).toBe(1);
    expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.approved' } })).toBe(1);
    expect((await get(id)).version).toBe(3);
  });
});

describe('two reviewers at once', () => {
  it('lets exactly one of approve, reject and request changes happen', async () => {
    const other = await createStaffWithSession(t, { role: 'reviewer' });
    for (let round = 0; round < 5; round++) {
      const { id } = await create({ items: [{ api: 'business', environment: 'acceptance' }] });
      await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
      const results = await Promise.all([
        post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' }),
        post(`/api/onboarding-requests/${id}/reject`, other, { reason: 'Not for this partner.' }),
        post(`/api/onboarding-requests/${id}/request-changes`, other, { note: 'Say more about the purpose.' }),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
      const winner = results.find((r) => r.statusCode === 200)!.json();
      expect(winner.version).toBe(3);
      const transitions = await t.prisma.auditEvent.count({
        where: { subjectId: id, action: { in: ['onboarding.approved', 'onboarding.rejected', 'onboarding.changes_requested'] } },
      });
      expect(transitions).toBe(1);
    }
  });
});

describe('rejection, changes requested, resubmission and withdrawal', () => {
  it('carries the rejection reason to the partner', async () => {
    const { id, statusUrl } = await create();
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const missing = await post(`/api/onboarding-requests/${id}/reject`, reviewer, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details.fields.reason).toBeTruthy();
    const res = await post(`/api/onboarding-requests/${id}/reject`, reviewer, { reason: 'Your organisation is not a registered employer.' });
    expect(res.json()).toMatchObject({ state: 'rejected', decisionReason: 'Your organisation is not a registered employer.' });
    const page = await t.inject({ method: 'GET', url: new URL(statusUrl).pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your organisation is not a registered employer.');
    expect(page.body).toContain('data-state="rejected"');
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).json().code).toBe('onboarding/invalid_transition');
  });

  it('goes changes requested -> resubmitted by the partner -> review again, dropping unissued approvals', async () => {
    const { id, statusUrl } = await create();
    const token = statusUrl.split('/').pop()!;
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    const changes = await post(`/api/onboarding-requests/${id}/request-changes`, reviewer, { note: 'Please ask for the Business API instead.' });
    expect(changes.json()).toMatchObject({ state: 'changes_requested', decisionReason: 'Please ask for the Business API instead.' });

    const ctx: RequestContext = { ...systemContext(), clientIp: '198.51.100.9' };
    await expect(svc.resubmitByPartner(ctx, token, { purpose: 'Lunch ordering', items: [{ api: 'nope', environment: 'acceptance' }] })).rejects.toMatchObject({
      code: 'onboarding/unknown_api',
    });
    const after = await svc.resubmitByPartner(ctx, token, {
      purpose: 'Lunch ordering, now through the Business API as you asked.',
      items: [{ api: 'business', environment: 'acceptance' }],
    });
    expect(after).toMatchObject({
      state: 'submitted',
      decisionReason: null,
      approvals: [],
      items: [expect.objectContaining({ apiKey: 'business', environment: 'acceptance' })],
    });
    const event = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'onboarding.resubmitted' } });
    expect(event).toMatchObject({ actorType: 'partner_contact', actorId: after.contact.id, correlationId: ctx.correlationId });
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).json().state).toBe('in_review');
  });

  it('keeps credentials issued before changes were requested, and lets a reviewer confirm that environment', async () => {
    const { id, statusUrl } = await create();
    const token = statusUrl.split('/').pop()!;
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    await t.prisma.transaction((tx) => review.takeApprovalForIssuing(tx, systemContext(), id, 'acceptance'));
    await post(`/api/onboarding-requests/${id}/request-changes`, reviewer, { note: 'Production is not possible yet; Acceptance only please.' });
    const after = await svc.resubmitByPartner(systemContext(), token, {
      purpose: 'Lunch ordering, Acceptance only for now as agreed.',
      items: [{ api: 'cafetariaplan', environment: 'acceptance' }],
    });
    expect(after.approvals).toEqual([expect.objectContaining({ environment: 'acceptance', status: 'issued' })]);
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const confirmed = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({ state: 'approved', approvals: [expect.objectContaining({ status: 'issued' })] });
    await expect(t.prisma.transaction((tx) => review.takeApprovalForIssuing(tx, systemContext(), id, 'acceptance'))).rejects.toMatchObject({
      code: 'onboarding/already_issued',
    });
  });

  it('lets the partner withdraw through the link only while the request is open', async () => {
    const { id, statusUrl } = await create();
    const token = statusUrl.split('/').pop()!;
    await expect(svc.withdrawByPartner(systemContext(), 'A'.repeat(43), 'x')).rejects.toMatchObject({ code: 'onboarding/status_link_unknown' });
    const done = await svc.withdrawByPartner(systemContext(), token, 'We found another supplier.');
    expect(done).toMatchObject({ state: 'withdrawn', withdrawnReason: 'We found another supplier.' });
    await expect(svc.withdrawByPartner(systemContext(), token)).rejects.toMatchObject({ code: 'onboarding/invalid_transition' });
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).statusCode).toBe(409);
  });
});

describe('approval expiry and the issuing seam', () => {
  async function approvedRequest(items = [{ api: 'cafetariaplan', environment: 'acceptance' }]) {
    const { id } = await create({ items });
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    const res = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    expect(res.statusCode).toBe(200);
    return id;
  }
  const take = (id: string, env: 'acceptance' | 'production' = 'acceptance', ctx = systemContext()) =>
    t.prisma.transaction((tx) => review.takeApprovalForIssuing(tx, ctx, id, env));

  it('hands over the request, partner, contact and items once, and audits it', async () => {
    const id = await approvedRequest();
    expect((await review.listIssuable()).map((i) => i.requestId)).toContain(id);
    const ctx = systemContext();
    const got = await take(id, 'acceptance', ctx);
    expect(got).toMatchObject({
      requestId: id,
      reference: expect.stringMatching(REFERENCE_PATTERN),
      partner: { id: expect.any(String), legalName: expect.stringContaining('Voorbeeld') },
      contact: { name: 'Jan Smit', mobile: '+31612345678', language: 'en' },
      items: [
        {
          apiKey: 'cafetariaplan',
          apiName: 'Cafetariaplan API',
          environment: 'acceptance',
          baseUrl: 'https://cafetariaplan-api.acceptance.example.com',
          audience: 'https://cafetariaplan-api.acceptance.example.com',
          apiEnvironmentId: expect.any(String),
        },
      ],
    });
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/already_issued', kind: 'conflict' });
    await expect(take(id, 'production')).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
    await expect(take(randomUUID())).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
    expect((await review.listIssuable()).map((i) => i.requestId)).not.toContain(id);
    const used = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'onboarding.approval_used' } });
    expect(used).toMatchObject({ environment: 'acceptance', correlationId: ctx.correlationId });
    expect((await get(id)).approvals[0].status).toBe('issued');
  });

  it('lets exactly one of 10 concurrent takes win', async () => {
    const id = await approvedRequest();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => take(id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason.code).toBe('onboarding/already_issued');
    expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.approval_used' } })).toBe(1);
  });

  it('lets an unissued approval lapse after APPROVAL_TTL_DAYS, and a reviewer renew it', async () => {
    const id = await approvedRequest();
    const approval = await t.prisma.onboardingApproval.findFirstOrThrow({ where: { requestId: id } });
    expect(approval.expiresAt.getTime() - approval.approvedAt.getTime()).toBe(14 * 24 * 3600_000);
    t.clock.advance(14 * 24 * 3600_000 + 1000);
    try {
      await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/approval_expired', kind: 'gone' });
      expect((await review.listIssuable()).map((i) => i.requestId)).not.toContain(id);
      expect((await svc.get(id)).approvals[0].status).toBe('expired');
      // Sessions from two weeks ago have timed out too: sign in afresh.
      const later = await createStaffWithSession(t, { role: 'reviewer' });
      const renewed = await post(`/api/onboarding-requests/${id}/approvals`, later, { environment: 'acceptance' });
      expect(renewed.statusCode, renewed.body).toBe(200);
      expect(renewed.json()).toMatchObject({ state: 'approved', approvals: [expect.objectContaining({ status: 'valid' })] });
      expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.approval_renewed' } })).toBe(1);
      await expect(take(id)).resolves.toMatchObject({ requestId: id });
    } finally {
      t.clock.set(new Date());
    }
  });

  it('does not hand out an approval of a request that was rejected after Acceptance was approved', async () => {
    const { id } = await create();
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: 'acceptance' });
    await post(`/api/onboarding-requests/${id}/reject`, reviewer, { reason: 'Production access is not possible for you.' });
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
  });
});

describe('the OpenAPI document', () => {
  it('documents every onboarding action with its DTO', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const [path, method] of [
      ['/api/onboarding-requests', 'get'],
      ['/api/onboarding-requests', 'post'],
      ['/api/onboarding-requests/{id}', 'get'],
      ['/api/onboarding-requests/{id}', 'patch'],
      ['/api/onboarding-requests/{id}/start-review', 'post'],
      ['/api/onboarding-requests/{id}/approvals', 'post'],
      ['/api/onboarding-requests/{id}/reject', 'post'],
      ['/api/onboarding-requests/{id}/request-changes', 'post'],
      ['/api/onboarding-requests/{id}/withdraw', 'post'],
      ['/api/onboarding-requests/{id}/history', 'get'],
      ['/api/onboarding-requests/issuable', 'get'],
    ]) {
      expect(doc.paths[path]?.[method]?.summary, `${method} ${path}`).toBeTruthy();
    }
    expect(doc.components.schemas.ApproveDto.properties.environment.enum).toEqual(['acceptance', 'production']);
    expect(doc.components.schemas.CreateOnboardingRequestDto.required).toEqual(expect.arrayContaining(['partner', 'contact', 'language', 'purpose', 'items']));
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/apply') || p.startsWith('/console') || p.startsWith('/requests'))).toBe(false);
  });
});

describe('the queue', () => {
  it('searches by reference, partner name and contact email and filters by state, API and environment', async () => {
    const { id, reference } = await create({
      partner: { legalName: 'Zoekbaar Unieke Naam B.V.', registrationNumber: '55554444', country: 'BE' },
      items: [{ api: 'communities', environment: 'production' }],
    });
    const list = async (qs: string) =>
      (await t.inject({ method: 'GET', url: `/api/onboarding-requests?${qs}`, headers: viewer.headers })).json().rows.map((r: { id: string }) => r.id);
    expect(await list(`q=${reference}`)).toEqual([id]);
    expect(await list('q=zoekbaar%20unieke')).toEqual([id]);
    expect(await list(`q=${encodeURIComponent((await get(id)).contact.email)}`)).toContain(id);
    expect(await list('q=zoekbaar&state=submitted&api=communities&environment=production')).toEqual([id]);
    expect(await list('q=zoekbaar&environment=acceptance')).toEqual([]);
    expect(await list('q=zoekbaar&state=approved')).toEqual([]);
    expect(await list('q=%25')).not.toContain(undefined);
    // No reference, name or email holds a '%': escaped, it matches nothing; unescaped it would match every row.
    expect(await list('q=%25')).toEqual([]);
    const bad = await t.inject({ method: 'GET', url: '/api/onboarding-requests?state=lost&limit=9999', headers: viewer.headers });
    expect(bad.statusCode).toBe(400);
  });
});
