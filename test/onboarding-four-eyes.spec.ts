import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import type { SubmitInput } from '../src/onboarding/onboarding.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

let t: TestApp;
let one: StaffLogin;
let two: StaffLogin;
let three: StaffLogin;

beforeAll(async () => {
  t = await startTestApp();
  [one, two, three] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Olga One' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Tom Two' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Thea Three' }),
  ]);
});
afterAll(() => t.close());

const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });
const page = (url: string, as: StaffLogin) => t.inject({ method: 'GET', url, headers: { cookie: as.headers.cookie, accept: 'text/html' } });
function form(url: string, as: StaffLogin, fields: Record<string, string>) {
  const body = new URLSearchParams({ ...fields, _csrf: as.headers['x-csrf-token'] }).toString();
  return t.inject({
    method: 'POST',
    url,
    headers: { cookie: as.headers.cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    payload: body,
  });
}

let n = 0;
function application(
  over: { legalName?: string; registrationNumber?: string; contact?: Partial<SubmitInput['contact']>; items?: SubmitInput['items'] } = {},
): SubmitInput {
  n += 1;
  return {
    partner: {
      legalName: over.legalName ?? `Vier Ogen ${n} B.V.`,
      registrationNumber: over.registrationNumber ?? `5${String(n).padStart(3, '0')}${randomUUID().replace(/\D/g, '').slice(0, 4)}`,
      country: 'NL',
    },
    contact: { name: 'Pim Partner', email: `pim${n}-${randomUUID().slice(0, 6)}@partner.example`, mobile: '+31612300000', ...over.contact },
    language: 'en',
    purpose: 'Our till software reads the business customer record at checkout.',
    items: over.items ?? [
      { api: 'business', environment: 'acceptance' },
      { api: 'business', environment: 'production' },
    ],
  };
}

/** What the public intake does: the partner submits, attributed to the contact it names. */
async function partnerSubmits(input: SubmitInput): Promise<string> {
  const ctx = { correlationId: randomUUID(), clientIp: '203.0.113.9', userAgent: null, actor: { type: 'partner_contact' as const, id: null } };
  return (await t.app.get(OnboardingService).submit(ctx, input)).id;
}

describe('production access takes two different staff', () => {
  it('a partner-submitted request: whoever approved Production cannot issue it; a second reviewer can', async () => {
    const id = await partnerSubmits(application());
    expect((await post(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'production' })).statusCode).toBe(200);
    // Acceptance: the approver may issue it.
    expect((await post(`/api/onboarding-requests/${id}/issue`, one, { environment: 'acceptance' })).statusCode).toBe(201);

    const alone = await post(`/api/onboarding-requests/${id}/issue`, one, { environment: 'production' });
    expect([alone.statusCode, alone.json().code]).toEqual([403, 'onboarding/four_eyes_issue']);
    expect(await t.prisma.credential.count({ where: { onboardingRequestId: id, environment: 'production' } })).toBe(0);
    expect((await t.prisma.onboardingApproval.findFirstOrThrow({ where: { requestId: id, environment: 'production' } })).issuedAt).toBeNull();

    // The console says why, on the request page and on the issue list, and refuses a forced post.
    const mine = (await page(`/console/requests/${id}`, one)).body;
    expect(mine).toMatch(/<button type="submit" disabled aria-describedby="issue-production-why">Issue production credentials<\/button>/);
    expect(mine).toContain('You approved Production: another reviewer must issue its credentials (four-eyes).');
    expect((await page('/console/credentials/issue', one)).body).toContain('You approved Production: another reviewer must issue it (four-eyes).');
    const forced = await form('/console/credentials/issue', one, { requestId: id, environment: 'production' });
    expect(forced.statusCode).toBe(403);
    expect(forced.body).toContain('another reviewer must issue');
    const theirs = (await page(`/console/requests/${id}`, two)).body;
    expect(theirs).toMatch(/<button type="submit">Issue production credentials<\/button>/);

    const issued = await post(`/api/onboarding-requests/${id}/issue`, two, { environment: 'production' });
    expect(issued.statusCode, issued.body).toBe(201);
    const credential = await t.prisma.credential.findFirstOrThrow({ where: { onboardingRequestId: id, environment: 'production' } });
    expect(credential.issuedById).toBe(two.staffId);
  });
});

describe('a request that names a new contact for a known partner', () => {
  it('records the contact without attaching it; one reviewer confirms it, a different one approves, which attaches it', async () => {
    const first = application({ legalName: 'Bekende Partner B.V.' });
    const firstId = await partnerSubmits(first);
    const partnerId = (await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: firstId } })).partnerId;
    const original = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId } });
    expect(original.attachedAt).not.toBeNull();

    // A stranger reuses the registration number with a contact of their own.
    const strangerId = await partnerSubmits(
      application({
        legalName: 'Not Them B.V.',
        registrationNumber: first.partner.registrationNumber,
        contact: { name: 'Stan Stranger', email: 'stan@elsewhere.example', mobile: '+31612399999' },
      }),
    );
    const request = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: strangerId } });
    expect(request.partnerId).toBe(partnerId);
    const stranger = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: request.contactId } });
    expect(stranger.attachedAt).toBeNull();
    // The partner's record and its existing contact are untouched.
    expect((await t.prisma.partner.findUniqueOrThrow({ where: { id: partnerId } })).legalName).toBe('Bekende Partner B.V.');
    expect(await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: original.id } })).toEqual(original);

    expect((await post(`/api/onboarding-requests/${strangerId}/start-review`, one)).statusCode).toBe(200);
    const unconfirmed = await post(`/api/onboarding-requests/${strangerId}/approvals`, one, { environment: 'acceptance' });
    expect([unconfirmed.statusCode, unconfirmed.json().code]).toEqual([403, 'onboarding/contact_unconfirmed']);
    let body = (await page(`/console/requests/${strangerId}`, one)).body;
    expect(body).toContain('data-testid="new-contact-warning"');
    expect(body).toMatch(/<button type="submit" disabled aria-describedby="approve-acceptance-why">/);
    expect(body).toContain('a reviewer must confirm the contact first, and another reviewer approves (four-eyes).');
    expect(body).toContain('not yet attached to the partner');

    const confirmed = await form(`/console/requests/${strangerId}/confirm-contact`, one, {});
    expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(303);
    const twice = await post(`/api/onboarding-requests/${strangerId}/confirm-contact`, two);
    expect([twice.statusCode, twice.json().code]).toEqual([409, 'onboarding/contact_already_confirmed']);
    const own = await post(`/api/onboarding-requests/${strangerId}/approvals`, one, { environment: 'acceptance' });
    expect([own.statusCode, own.json().code]).toEqual([403, 'onboarding/four_eyes']);
    body = (await page(`/console/requests/${strangerId}`, one)).body;
    expect(body).toContain('You confirmed the new technical contact: another reviewer must approve this request (four-eyes).');
    expect((await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: stranger.id } })).attachedAt).toBeNull();

    const approved = await post(`/api/onboarding-requests/${strangerId}/approvals`, two, { environment: 'acceptance' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().contact).toMatchObject({ id: stranger.id, attached: true });
    expect((await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: stranger.id } })).attachedAt).not.toBeNull();
    const audit = await t.prisma.auditEvent.findMany({ where: { OR: [{ subjectId: strangerId }, { subjectId: partnerId }] }, orderBy: { seq: 'asc' } });
    expect(audit.find((e) => e.action === 'onboarding.contact_confirmed')).toMatchObject({ actorType: 'staff', actorId: one.staffId });
    expect(audit.find((e) => e.action === 'technical_contact.attached')).toMatchObject({
      actorId: two.staffId,
      detail: expect.objectContaining({ contactId: stranger.id, confirmedById: one.staffId, approvedById: two.staffId, onboardingRequestId: strangerId }),
    });
  });

  it('a request staff enter for a new contact of a known partner counts the creator as the confirming reviewer', async () => {
    const first = application();
    await partnerSubmits(first);
    const created = await post('/api/onboarding-requests', three, {
      ...application({ registrationNumber: first.partner.registrationNumber }),
      items: [{ api: 'business', environment: 'acceptance' }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const view = (await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: one.headers })).json();
    expect(view).toMatchObject({ contact: { attached: false }, contactVouchedById: three.staffId });
    expect((await post(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
  });
});
