import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { systemContext, type RequestContext } from '../src/common/request-context.js';
import { OnboardingReviewService } from '../src/onboarding/onboarding-review.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { REFERENCE_PATTERN } from '../src/onboarding/onboarding.tokens.js';
import type { RequestedItem } from '../src/onboarding/onboarding.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import {
  approveEnvironment,
  createRequest,
  onboardingApplication,
  staffPost,
  startReview,
  statusTokenOf,
  uniqueRegistrationNumber,
  uniqueTag,
  type ApplicationOverrides,
} from './support/onboarding.factories.js';

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

const post = (url: string, as: StaffLogin, payload: object = {}) => staffPost(t, as, url, payload);
const get = async (id: string) => (await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: viewer.headers })).json();
const create = (over: ApplicationOverrides = {}) => createRequest(t, creator, onboardingApplication(over));
const approvals = (id: string) => `/api/onboarding-requests/${id}/approvals`;
const ACCEPTANCE_ONLY: RequestedItem[] = [{ api: 'business', environment: 'acceptance' }];

/** A request the creator entered and the reviewer started reviewing. */
async function inReview(over: ApplicationOverrides = {}) {
  const created = await create(over);
  await startReview(t, reviewer, created.id);
  return created;
}

async function counts() {
  return { requests: await t.prisma.onboardingRequest.count(), partners: await t.prisma.partner.count(), contacts: await t.prisma.technicalContact.count() };
}

describe("creating requests on a partner's behalf (JSON)", () => {
  it('gives a human-friendly reference and a status link', async () => {
    const res = await post('/api/onboarding-requests', creator, onboardingApplication());
    expect(res.statusCode, res.body).toBe(201);
    const { reference, statusUrl } = res.json();
    expect(reference).toMatch(REFERENCE_PATTERN);
    expect(statusUrl).toMatch(/^http:\/\/localhost:3000\/requests\/[A-Za-z0-9_-]{43}$/);
  });

  it('keeps only a hash of the status token', async () => {
    const { id, statusUrl } = await create();
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } });
    expect(row.statusTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.statusTokenHash).not.toContain(statusTokenOf(statusUrl));
    expect(JSON.stringify(row)).not.toContain(statusTokenOf(statusUrl));
  });

  it('saves the request as submitted, version 1, created and last edited by the staff member', async () => {
    const { id } = await create();
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ state: 'submitted', version: 1, createdByStaffId: creator.staffId, lastEditedById: creator.staffId });
  });

  it('audits the submission as the staff member', async () => {
    const { id } = await create();
    const audit = await t.prisma.auditEvent.findMany({ where: { subjectType: 'onboarding_request', subjectId: id } });
    expect(audit).toEqual([expect.objectContaining({ action: 'onboarding.submitted', actorType: 'staff', actorId: creator.staffId })]);
  });

  it('reuses the partner and contact for the same registration number + country however it is spelled, keeping the recorded name', async () => {
    const b = onboardingApplication();
    const first = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: (await createRequest(t, creator, b)).id } });
    const respelled = ` ${b.partner.registrationNumber.slice(0, 4)}.${b.partner.registrationNumber.slice(4)} `;
    const again = await post('/api/onboarding-requests', creator, {
      ...b,
      partner: { ...b.partner, legalName: 'Another name', registrationNumber: respelled },
    });
    expect(again.statusCode).toBe(201);
    const second = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: again.json().id } });
    expect(second.partnerId).toBe(first.partnerId);
    expect(second.contactId).toBe(first.contactId);
    expect((await t.prisma.partner.findUniqueOrThrow({ where: { id: first.partnerId } })).legalName).toBe(b.partner.legalName);
  });

  it('keeps one partner when the same organisation applies ten times at once', async () => {
    const b = onboardingApplication();
    const results = await Promise.all(Array.from({ length: 10 }, () => post('/api/onboarding-requests', creator, b)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    const partners = await t.prisma.partner.findMany({ where: { registrationNumber: b.partner.registrationNumber } });
    expect(partners).toHaveLength(1);
  });

  it("never lets an application change a known contact's mobile: it records another contact", async () => {
    const b = onboardingApplication();
    const first = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: (await createRequest(t, creator, b)).id } });
    const other = await post('/api/onboarding-requests', creator, { ...b, contact: { ...b.contact, mobile: '+31687654321' } });
    const contacts = await t.prisma.technicalContact.findMany({ where: { partnerId: first.partnerId }, orderBy: { createdAt: 'asc' } });
    expect(contacts.map((c) => c.mobile)).toEqual(['+31612345678', '+31687654321']);
    expect((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: other.json().id } })).contactId).toBe(contacts[1].id);
  });
});

describe('refusing bad input', () => {
  /** Shallow overrides, so a test can send any shape at all. */
  const body = (over: Record<string, unknown>) => ({ ...onboardingApplication(), ...over });

  it.each<[string, Record<string, unknown>, string]>([
    ['a malformed email', { contact: { name: 'Jan', email: 'not-an-email', mobile: '+31612345678' } }, 'contact.email'],
    ['a national mobile number', { contact: { name: 'Jan', email: 'jan@example.com', mobile: '0612345678' } }, 'contact.mobile'],
    ['a VoIP number', { contact: { name: 'Jan', email: 'jan@example.com', mobile: '+31851234567' } }, 'contact.mobile'],
    ['an oversize purpose', { purpose: 'x'.repeat(2001) }, 'purpose'],
    ['a purpose that is not text', { purpose: 12345 }, 'purpose'],
    ['items that are not a list', { items: 'business' }, 'items'],
    ['an unknown environment', { items: [{ api: 'business', environment: 'staging' }] }, 'items.0.environment'],
    ['an unsupported language', { language: 'de' }, 'language'],
    ['a country that is not a code', { partner: { legalName: 'X'.repeat(201), registrationNumber: '1', country: 'Netherlands' } }, 'partner.country'],
    ['an unknown field', { admin: true }, 'admin'],
  ])('refuses %s with a message on its field and saves nothing', async (_what, over, field) => {
    const before = await counts();
    const res = await post('/api/onboarding-requests', creator, body(over));
    expect(res.statusCode, JSON.stringify(over)).toBe(400);
    expect(res.json().code).toBe('request/validation_failed');
    expect(Object.keys(res.json().details.fields), JSON.stringify(over)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('explains that a VoIP number will not do', async () => {
    const voip = await post('/api/onboarding-requests', creator, body({ contact: { name: 'Jan', email: 'jan@example.com', mobile: '+31851234567' } }));
    expect(voip.json().details.fields['contact.mobile'][0]).toMatch(/VoIP/);
  });

  it('refuses an unknown API, naming the known ones, and saves nothing', async () => {
    const before = await counts();
    const unknown = await post('/api/onboarding-requests', creator, body({ items: [{ api: 'payments', environment: 'acceptance' }] }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      code: 'onboarding/unknown_api',
      details: { unknown: ['payments:acceptance'], fields: { items: [expect.stringContaining('business')] } },
    });
    expect(await counts()).toEqual(before);
  });

  it('refuses a body that is not JSON and saves nothing', async () => {
    const before = await counts();
    const notJson = await t.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: { ...creator.headers, 'content-type': 'application/json' },
      payload: '{"partner":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(await counts()).toEqual(before);
  });
});

describe('who may read and act', () => {
  it('lets a viewer read a request', async () => {
    const { id } = await create();
    expect((await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: viewer.headers })).statusCode).toBe(200);
  });

  it('refuses a viewer starting a review', async () => {
    const { id } = await create();
    expect((await post(`/api/onboarding-requests/${id}/start-review`, viewer)).json().code).toBe('auth/role_required');
  });

  it('refuses a viewer creating a request', async () => {
    expect((await post('/api/onboarding-requests', viewer, onboardingApplication())).statusCode).toBe(403);
  });

  it('needs a session to read a request', async () => {
    const { id } = await create();
    expect((await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}` })).statusCode).toBe(401);
  });

  it('answers onboarding/not_found for an id that is not a UUID', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/onboarding-requests/not-a-uuid', headers: viewer.headers });
    expect(res.json().code).toBe('onboarding/not_found');
  });
});

describe('review, four-eyes and per-environment approval', () => {
  it('refuses an approval before the review has started', async () => {
    const { id } = await create();
    expect((await post(approvals(id), reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/invalid_transition');
  });

  it('starts a review: in review, version 2, the reviewer recorded', async () => {
    const { id } = await create();
    const started = await post(`/api/onboarding-requests/${id}/start-review`, reviewer);
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({ state: 'in_review', version: 2, reviewStartedById: reviewer.staffId });
  });

  it("refuses the creator's own approval (four-eyes)", async () => {
    const { id } = await inReview();
    const own = await post(approvals(id), creator, { environment: 'acceptance' });
    expect(own.statusCode).toBe(403);
    expect(own.json().code).toBe('onboarding/four_eyes');
  });

  it('refuses Production before Acceptance', async () => {
    const { id } = await inReview();
    const prodFirst = await post(approvals(id), reviewer, { environment: 'production' });
    expect(prodFirst.statusCode).toBe(409);
    expect(prodFirst.json().code).toBe('onboarding/acceptance_first');
  });

  it('approves Acceptance and keeps the request in review for Production', async () => {
    const { id } = await inReview();
    const acc = await post(approvals(id), reviewer, { environment: 'acceptance' });
    expect(acc.statusCode, acc.body).toBe(200);
    expect(acc.json()).toMatchObject({
      state: 'in_review',
      approvals: [expect.objectContaining({ environment: 'acceptance', status: 'valid', approvedById: reviewer.staffId })],
    });
  });

  it('refuses approving Acceptance twice', async () => {
    const { id } = await inReview();
    await approveEnvironment(t, reviewer, id, 'acceptance');
    expect((await post(approvals(id), reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/already_approved');
  });

  it('walks submitted -> in review -> Acceptance -> Production -> approved, auditing each move with a correlation id', async () => {
    const { id } = await inReview();
    await approveEnvironment(t, reviewer, id, 'acceptance');
    const prod = await post(approvals(id), reviewer, { environment: 'production' });
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
    const { id } = await inReview({ items: [{ api: 'business', environment: 'production' }] });
    const res = await post(approvals(id), reviewer, { environment: 'production' });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('approved');
  });

  it('refuses approving an environment the request did not ask for', async () => {
    const { id } = await inReview({ items: [{ api: 'business', environment: 'production' }] });
    await approveEnvironment(t, reviewer, id, 'production');
    expect((await post(approvals(id), reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/environment_not_requested');
  });

  it('refuses a stale version with onboarding/conflict', async () => {
    const { id } = await create();
    await post(`/api/onboarding-requests/${id}/start-review`, reviewer, { version: 1 });
    const stale = await post(`/api/onboarding-requests/${id}/reject`, reviewer, { reason: 'We cannot offer this API to you.', version: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'onboarding/conflict', details: { expectedVersion: 1, currentVersion: 2 } });
  });

  it('lets exactly one of 50 concurrent approvals win', async () => {
    const { id } = await inReview({ items: ACCEPTANCE_ONLY });
    const results = await Promise.all(Array.from({ length: 50 }, () => post(approvals(id), reviewer, { environment: 'acceptance' })));
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

describe('a request a reviewer edited', () => {
  /** Acceptance only, in review, its purpose edited by the reviewer (version 3). */
  async function editedInReview() {
    const { id } = await inReview({ items: [{ api: 'communities', environment: 'acceptance' }] });
    const edited = await t.inject({
      method: 'PATCH',
      url: `/api/onboarding-requests/${id}`,
      headers: reviewer.headers,
      payload: { purpose: 'A community platform for our customers and their neighbourhoods.', version: 2 },
    });
    return { id, edited };
  }

  it('records the reviewer as last editor, at version 3, still in review', async () => {
    const { edited } = await editedInReview();
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ lastEditedById: reviewer.staffId, version: 3, state: 'in_review' });
  });

  it('refuses approval by whoever last edited it', async () => {
    const { id } = await editedInReview();
    expect((await post(approvals(id), reviewer, { environment: 'acceptance' })).json().code).toBe('onboarding/four_eyes');
  });

  it('refuses approval by its creator', async () => {
    const { id } = await editedInReview();
    expect((await post(approvals(id), creator, { environment: 'acceptance' })).json().code).toBe('onboarding/four_eyes');
  });

  it('lets a third reviewer approve it', async () => {
    const third = await createStaffWithSession(t, { role: 'admin' });
    const { id } = await editedInReview();
    const ok = await post(approvals(id), third, { environment: 'acceptance' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().state).toBe('approved');
  });

  it('refuses editing it once approved', async () => {
    const third = await createStaffWithSession(t, { role: 'admin' });
    const { id } = await editedInReview();
    await approveEnvironment(t, third, id, 'acceptance');
    const edit = await t.inject({
      method: 'PATCH',
      url: `/api/onboarding-requests/${id}`,
      headers: reviewer.headers,
      payload: { purpose: 'Too late to change what was approved here.' },
    });
    expect(edit.json().code).toBe('onboarding/invalid_transition');
  });
});

describe('two reviewers at once', () => {
  it('lets exactly one of approve, reject and request changes happen', async () => {
    const other = await createStaffWithSession(t, { role: 'reviewer' });
    for (let round = 0; round < 5; round++) {
      const { id } = await inReview({ items: ACCEPTANCE_ONLY });
      const results = await Promise.all([
        post(approvals(id), reviewer, { environment: 'acceptance' }),
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

describe('rejection', () => {
  const REASON = 'Your organisation is not a registered employer.';
  async function rejected() {
    const created = await inReview();
    const res = await post(`/api/onboarding-requests/${created.id}/reject`, reviewer, { reason: REASON });
    return { ...created, res };
  }

  it('insists on a reason', async () => {
    const { id } = await inReview();
    const missing = await post(`/api/onboarding-requests/${id}/reject`, reviewer, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details.fields.reason).toBeTruthy();
  });

  it('rejects with the reason', async () => {
    const { res } = await rejected();
    expect(res.json()).toMatchObject({ state: 'rejected', decisionReason: REASON });
  });

  it('carries the reason to the partner on the status page', async () => {
    const { statusUrl } = await rejected();
    const page = await t.inject({ method: 'GET', url: new URL(statusUrl).pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(REASON);
    expect(page.body).toContain('data-state="rejected"');
  });

  it('refuses reviewing a rejected request again', async () => {
    const { id } = await rejected();
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).json().code).toBe('onboarding/invalid_transition');
  });
});

describe('changes requested and resubmission', () => {
  const NOTE = 'Please ask for the Business API instead.';
  /** In review, Acceptance approved (not issued), changes requested. */
  async function changesRequested() {
    const { id, statusUrl } = await inReview();
    await approveEnvironment(t, reviewer, id, 'acceptance');
    const res = await post(`/api/onboarding-requests/${id}/request-changes`, reviewer, { note: NOTE });
    return { id, token: statusTokenOf(statusUrl), res };
  }
  const resubmit = (token: string, ctx: RequestContext = systemContext()) =>
    svc.resubmitByPartner(ctx, token, {
      purpose: 'Lunch ordering, now through the Business API as you asked.',
      items: [{ api: 'business', environment: 'acceptance' }],
    });

  it('requests changes with a note', async () => {
    const { res } = await changesRequested();
    expect(res.json()).toMatchObject({ state: 'changes_requested', decisionReason: NOTE });
  });

  it('refuses a resubmission naming an unknown API', async () => {
    const { token } = await changesRequested();
    await expect(
      svc.resubmitByPartner(systemContext(), token, { purpose: 'Lunch ordering', items: [{ api: 'nope', environment: 'acceptance' }] }),
    ).rejects.toMatchObject({ code: 'onboarding/unknown_api' });
  });

  it('takes a resubmission back to submitted, dropping the unissued approval and the note', async () => {
    const { token } = await changesRequested();
    expect(await resubmit(token)).toMatchObject({
      state: 'submitted',
      decisionReason: null,
      approvals: [],
      items: [expect.objectContaining({ apiKey: 'business', environment: 'acceptance' })],
    });
  });

  it('audits a resubmission as the partner contact, with its correlation id', async () => {
    const { id, token } = await changesRequested();
    const ctx: RequestContext = { ...systemContext(), clientIp: '198.51.100.9' };
    const after = await resubmit(token, ctx);
    const event = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'onboarding.resubmitted' } });
    expect(event).toMatchObject({ actorType: 'partner_contact', actorId: after.contact.id, correlationId: ctx.correlationId });
  });

  it('lets a reviewer review a resubmitted request again', async () => {
    const { id, token } = await changesRequested();
    await resubmit(token);
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).json().state).toBe('in_review');
  });
});

describe('credentials issued before changes were requested', () => {
  const take = (id: string) => t.prisma.transaction((tx) => review.takeApprovalForIssuing(tx, systemContext(), id, 'acceptance'));
  /** Acceptance approved and issued, then changes requested and the request resubmitted for Acceptance only. */
  async function resubmittedAfterIssuing() {
    const { id, statusUrl } = await inReview();
    await approveEnvironment(t, reviewer, id, 'acceptance');
    await take(id);
    await post(`/api/onboarding-requests/${id}/request-changes`, reviewer, { note: 'Production is not possible yet; Acceptance only please.' });
    const after = await svc.resubmitByPartner(systemContext(), statusTokenOf(statusUrl), {
      purpose: 'Lunch ordering, Acceptance only for now as agreed.',
      items: [{ api: 'cafetariaplan', environment: 'acceptance' }],
    });
    return { id, after };
  }

  it('keeps the issued approval through the resubmission', async () => {
    const { after } = await resubmittedAfterIssuing();
    expect(after.approvals).toEqual([expect.objectContaining({ environment: 'acceptance', status: 'issued' })]);
  });

  it('lets a reviewer confirm the issued environment, which approves the request', async () => {
    const { id } = await resubmittedAfterIssuing();
    await startReview(t, reviewer, id);
    const confirmed = await post(approvals(id), reviewer, { environment: 'acceptance' });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({ state: 'approved', approvals: [expect.objectContaining({ status: 'issued' })] });
  });

  it('does not hand out the confirmed approval a second time', async () => {
    const { id } = await resubmittedAfterIssuing();
    await startReview(t, reviewer, id);
    await approveEnvironment(t, reviewer, id, 'acceptance');
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/already_issued' });
  });
});

describe('withdrawal by the partner', () => {
  async function withdrawn() {
    const { id, statusUrl } = await create();
    const token = statusTokenOf(statusUrl);
    const done = await svc.withdrawByPartner(systemContext(), token, 'We found another supplier.');
    return { id, token, done };
  }

  it('refuses a withdrawal through an unknown link', async () => {
    await expect(svc.withdrawByPartner(systemContext(), 'A'.repeat(43), 'x')).rejects.toMatchObject({ code: 'onboarding/status_link_unknown' });
  });

  it('withdraws through the link, keeping the reason', async () => {
    const { done } = await withdrawn();
    expect(done).toMatchObject({ state: 'withdrawn', withdrawnReason: 'We found another supplier.' });
  });

  it('refuses a second withdrawal', async () => {
    const { token } = await withdrawn();
    await expect(svc.withdrawByPartner(systemContext(), token)).rejects.toMatchObject({ code: 'onboarding/invalid_transition' });
  });

  it('refuses reviewing a withdrawn request', async () => {
    const { id } = await withdrawn();
    expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).statusCode).toBe(409);
  });
});

describe('approval expiry and the issuing seam', () => {
  const TTL_MS = 14 * 24 * 3600_000;
  afterEach(() => t.clock.set(new Date()));

  async function approvedRequest() {
    const { id } = await inReview({ items: [{ api: 'cafetariaplan', environment: 'acceptance' }] });
    await approveEnvironment(t, reviewer, id, 'acceptance');
    return id;
  }
  const take = (id: string, env: 'acceptance' | 'production' = 'acceptance', ctx = systemContext()) =>
    t.prisma.transaction((tx) => review.takeApprovalForIssuing(tx, ctx, id, env));
  const issuable = async () => (await review.listIssuable()).map((i) => i.requestId);

  it('lists an approved request as issuable', async () => {
    const id = await approvedRequest();
    expect(await issuable()).toContain(id);
  });

  it('hands over the request, partner, contact and items', async () => {
    const id = await approvedRequest();
    expect(await take(id)).toMatchObject({
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
  });

  it('hands an approval over once', async () => {
    const id = await approvedRequest();
    await take(id);
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/already_issued', kind: 'conflict' });
  });

  it('refuses an environment that was not approved', async () => {
    const id = await approvedRequest();
    await expect(take(id, 'production')).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
  });

  it('refuses an unknown request', async () => {
    await expect(take(randomUUID())).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
  });

  it('no longer lists a handed-over request as issuable', async () => {
    const id = await approvedRequest();
    await take(id);
    expect(await issuable()).not.toContain(id);
  });

  it('shows a handed-over approval as issued', async () => {
    const id = await approvedRequest();
    await take(id);
    expect((await get(id)).approvals[0].status).toBe('issued');
  });

  it('audits the hand-over with its correlation id', async () => {
    const id = await approvedRequest();
    const ctx = systemContext();
    await take(id, 'acceptance', ctx);
    const used = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'onboarding.approval_used' } });
    expect(used).toMatchObject({ environment: 'acceptance', correlationId: ctx.correlationId });
  });

  it('lets exactly one of 10 concurrent takes win', async () => {
    const id = await approvedRequest();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => take(id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason.code).toBe('onboarding/already_issued');
    expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.approval_used' } })).toBe(1);
  });

  it('gives an unissued approval APPROVAL_TTL_DAYS (14)', async () => {
    const approval = await t.prisma.onboardingApproval.findFirstOrThrow({ where: { requestId: await approvedRequest() } });
    expect(approval.expiresAt.getTime() - approval.approvedAt.getTime()).toBe(TTL_MS);
  });

  /** An approved request whose approval lapsed unused: the clock has moved past APPROVAL_TTL_DAYS. */
  async function lapsedRequest() {
    const id = await approvedRequest();
    t.clock.advance(TTL_MS + 1000);
    return id;
  }
  /** Sessions from two weeks ago have timed out too: a reviewer signs in afresh and approves again. */
  async function renew(id: string) {
    const later = await createStaffWithSession(t, { role: 'reviewer' });
    return post(approvals(id), later, { environment: 'acceptance' });
  }

  it('refuses to hand over a lapsed approval', async () => {
    const id = await lapsedRequest();
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/approval_expired', kind: 'gone' });
  });

  it('no longer lists a request whose approval lapsed as issuable', async () => {
    const id = await lapsedRequest();
    expect(await issuable()).not.toContain(id);
  });

  it('shows a lapsed approval as expired', async () => {
    const id = await lapsedRequest();
    expect((await svc.get(id)).approvals[0].status).toBe('expired');
  });

  it('lets a reviewer renew a lapsed approval', async () => {
    const renewed = await renew(await lapsedRequest());
    expect(renewed.statusCode, renewed.body).toBe(200);
    expect(renewed.json()).toMatchObject({ state: 'approved', approvals: [expect.objectContaining({ status: 'valid' })] });
  });

  it('audits the renewal', async () => {
    const id = await lapsedRequest();
    await renew(id);
    expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.approval_renewed' } })).toBe(1);
  });

  it('hands over a renewed approval', async () => {
    const id = await lapsedRequest();
    await renew(id);
    await expect(take(id)).resolves.toMatchObject({ requestId: id });
  });

  it('does not hand out an approval of a request that was rejected after Acceptance was approved', async () => {
    const { id } = await inReview();
    await approveEnvironment(t, reviewer, id, 'acceptance');
    await post(`/api/onboarding-requests/${id}/reject`, reviewer, { reason: 'Production access is not possible for you.' });
    await expect(take(id)).rejects.toMatchObject({ code: 'onboarding/approval_missing' });
  });
});

describe('the OpenAPI document', () => {
  const openApi = async () => (await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json();

  it.each([
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
  ])('documents %s (%s) with a summary', async (path, method) => {
    expect((await openApi()).paths[path]?.[method]?.summary, `${method} ${path}`).toBeTruthy();
  });

  it('documents the environments an approval takes', async () => {
    expect((await openApi()).components.schemas.ApproveDto.properties.environment.enum).toEqual(['acceptance', 'production']);
  });

  it('documents the fields a new request needs', async () => {
    expect((await openApi()).components.schemas.CreateOnboardingRequestDto.required).toEqual(
      expect.arrayContaining(['partner', 'contact', 'language', 'purpose', 'items']),
    );
  });

  it('leaves the pages (/apply, /console, /requests) out', async () => {
    expect(Object.keys((await openApi()).paths).some((p) => p.startsWith('/apply') || p.startsWith('/console') || p.startsWith('/requests'))).toBe(false);
  });
});

describe('the queue', () => {
  const list = async (qs: string) =>
    (await t.inject({ method: 'GET', url: `/api/onboarding-requests?${qs}`, headers: viewer.headers })).json().rows.map((r: { id: string }) => r.id);
  /** A Production request for the Communities API whose partner name only this test uses; `q` finds it in lower case. */
  async function searchable() {
    const tag = uniqueTag();
    const created = await create({
      partner: { legalName: `Zoekbaar Unieke ${tag.toUpperCase()} B.V.`, registrationNumber: uniqueRegistrationNumber(), country: 'BE' },
      items: [{ api: 'communities', environment: 'production' }],
    });
    return { ...created, q: encodeURIComponent(`zoekbaar unieke ${tag}`) };
  }

  it('finds a request by its reference', async () => {
    const { id, reference } = await searchable();
    expect(await list(`q=${reference}`)).toEqual([id]);
  });

  it('finds a request by partner name, whatever the case', async () => {
    const { id, q } = await searchable();
    expect(await list(`q=${q}`)).toEqual([id]);
  });

  it('finds a request by contact email', async () => {
    const { id } = await searchable();
    expect(await list(`q=${encodeURIComponent((await get(id)).contact.email)}`)).toContain(id);
  });

  it('filters by state, API and environment', async () => {
    const { id, q } = await searchable();
    expect(await list(`q=${q}&state=submitted&api=communities&environment=production`)).toEqual([id]);
  });

  it('leaves out requests for another environment', async () => {
    const { q } = await searchable();
    expect(await list(`q=${q}&environment=acceptance`)).toEqual([]);
  });

  it('leaves out requests in another state', async () => {
    const { q } = await searchable();
    expect(await list(`q=${q}&state=approved`)).toEqual([]);
  });

  it("escapes '%' in the search", async () => {
    await searchable();
    expect(await list('q=%25')).not.toContain(undefined);
    // No reference, name or email holds a '%': escaped, it matches nothing; unescaped it would match every row.
    expect(await list('q=%25')).toEqual([]);
  });

  it('refuses an unknown state and an oversize limit', async () => {
    const bad = await t.inject({ method: 'GET', url: '/api/onboarding-requests?state=lost&limit=9999', headers: viewer.headers });
    expect(bad.statusCode).toBe(400);
  });
});
