import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmitInput } from '../src/onboarding/onboarding.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { onboardingApplication, partnerSubmits, uniqueTag, type ApplicationOverrides } from './support/onboarding.factories.js';

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

/** A partner's application for the Business API: a new partner and contact unless told otherwise. */
function application(over: ApplicationOverrides = {}): SubmitInput {
  const tag = uniqueTag();
  return onboardingApplication({
    ...over,
    partner: { legalName: `Vier Ogen ${tag} B.V.`, ...over.partner },
    contact: { name: 'Pim Partner', email: `pim-${tag}@partner.example`, mobile: '+31612300000', ...over.contact },
    purpose: 'Our till software reads the business customer record at checkout.',
    items: over.items ?? [
      { api: 'business', environment: 'acceptance' },
      { api: 'business', environment: 'production' },
    ],
  });
}

describe('production access takes two different staff', () => {
  /** A partner-submitted request whose Acceptance and Production reviewer One approved. */
  async function approvedByOne() {
    const id = await partnerSubmits(t, application());
    expect((await post(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'production' })).statusCode).toBe(200);
    return id;
  }

  it('lets whoever approved Acceptance issue it', async () => {
    const id = await approvedByOne();
    expect((await post(`/api/onboarding-requests/${id}/issue`, one, { environment: 'acceptance' })).statusCode).toBe(201);
  });

  it('refuses whoever approved Production issuing it, and issues nothing', async () => {
    const id = await approvedByOne();
    const alone = await post(`/api/onboarding-requests/${id}/issue`, one, { environment: 'production' });
    expect([alone.statusCode, alone.json().code]).toEqual([403, 'onboarding/four_eyes_issue']);
    expect(await t.prisma.credential.count({ where: { onboardingRequestId: id, environment: 'production' } })).toBe(0);
    expect((await t.prisma.onboardingApproval.findFirstOrThrow({ where: { requestId: id, environment: 'production' } })).issuedAt).toBeNull();
  });

  it('disables the Production issue button for its approver on the request page, saying why', async () => {
    const id = await approvedByOne();
    const mine = (await page(`/console/requests/${id}`, one)).body;
    expect(mine).toMatch(/<button type="submit" disabled aria-describedby="issue-production-why">Issue production credentials<\/button>/);
    expect(mine).toContain('You approved Production: another reviewer must issue its credentials (four-eyes).');
  });

  it('says why on the issue list', async () => {
    await approvedByOne();
    expect((await page('/console/credentials/issue', one)).body).toContain('You approved Production: another reviewer must issue it (four-eyes).');
  });

  it('refuses a forced post from the issue list', async () => {
    const id = await approvedByOne();
    const forced = await form('/console/credentials/issue', one, { requestId: id, environment: 'production' });
    expect(forced.statusCode).toBe(403);
    expect(forced.body).toContain('another reviewer must issue');
  });

  it('offers the Production issue button to another reviewer', async () => {
    const id = await approvedByOne();
    const theirs = (await page(`/console/requests/${id}`, two)).body;
    expect(theirs).toMatch(/<button type="submit">Issue production credentials<\/button>/);
  });

  it('lets a second reviewer issue Production', async () => {
    const id = await approvedByOne();
    const issued = await post(`/api/onboarding-requests/${id}/issue`, two, { environment: 'production' });
    expect(issued.statusCode, issued.body).toBe(201);
    const credential = await t.prisma.credential.findFirstOrThrow({ where: { onboardingRequestId: id, environment: 'production' } });
    expect(credential.issuedById).toBe(two.staffId);
  });
});

describe('a request that names a new contact for a known partner', () => {
  /** A partner we know, with its contact, and a stranger's request reusing its registration number with a contact of their own. */
  async function strangerRequest() {
    const first = application({ partner: { legalName: 'Bekende Partner B.V.' } });
    const firstId = await partnerSubmits(t, first);
    const partnerId = (await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: firstId } })).partnerId;
    const original = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId } });
    const strangerId = await partnerSubmits(
      t,
      application({
        partner: { legalName: 'Not Them B.V.', registrationNumber: first.partner.registrationNumber },
        contact: { name: 'Stan Stranger', email: `stan-${uniqueTag()}@elsewhere.example`, mobile: '+31612399999' },
      }),
    );
    const request = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: strangerId } });
    const stranger = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: request.contactId } });
    return { partnerId, original, strangerId, request, stranger };
  }
  /** The stranger's request in review by One. */
  async function inReview() {
    const s = await strangerRequest();
    expect((await post(`/api/onboarding-requests/${s.strangerId}/start-review`, one)).statusCode).toBe(200);
    return s;
  }
  /** In review, the new contact confirmed by One through the console. */
  async function confirmedByOne() {
    const s = await inReview();
    const confirmed = await form(`/console/requests/${s.strangerId}/confirm-contact`, one, {});
    return { ...s, confirmed };
  }

  it("attaches a new partner's first contact at once", async () => {
    const { original } = await strangerRequest();
    expect(original.attachedAt).not.toBeNull();
  });

  it('records the new contact under the known partner without attaching it', async () => {
    const { request, partnerId, stranger } = await strangerRequest();
    expect(request.partnerId).toBe(partnerId);
    expect(stranger.attachedAt).toBeNull();
  });

  it("leaves the known partner's record and its contact untouched", async () => {
    const { partnerId, original } = await strangerRequest();
    expect((await t.prisma.partner.findUniqueOrThrow({ where: { id: partnerId } })).legalName).toBe('Bekende Partner B.V.');
    expect(await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: original.id } })).toEqual(original);
  });

  it('refuses approval until a reviewer confirms the contact', async () => {
    const { strangerId } = await inReview();
    const unconfirmed = await post(`/api/onboarding-requests/${strangerId}/approvals`, one, { environment: 'acceptance' });
    expect([unconfirmed.statusCode, unconfirmed.json().code]).toEqual([403, 'onboarding/contact_unconfirmed']);
  });

  it('disables approval on the console until the contact is confirmed, saying why', async () => {
    const { strangerId } = await inReview();
    const body = (await page(`/console/requests/${strangerId}`, one)).body;
    expect(body).toContain('data-testid="new-contact-warning"');
    expect(body).toMatch(/<button type="submit" disabled aria-describedby="approve-acceptance-why">/);
    expect(body).toContain('a reviewer must confirm the contact first, and another reviewer approves (four-eyes).');
    expect(body).toContain('not yet attached to the partner');
  });

  it('lets a reviewer confirm the contact from the console', async () => {
    const { confirmed } = await confirmedByOne();
    expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(303);
  });

  it('refuses confirming the contact twice', async () => {
    const { strangerId } = await confirmedByOne();
    const twice = await post(`/api/onboarding-requests/${strangerId}/confirm-contact`, two);
    expect([twice.statusCode, twice.json().code]).toEqual([409, 'onboarding/contact_already_confirmed']);
  });

  it('refuses approval by the reviewer who confirmed the contact', async () => {
    const { strangerId } = await confirmedByOne();
    const own = await post(`/api/onboarding-requests/${strangerId}/approvals`, one, { environment: 'acceptance' });
    expect([own.statusCode, own.json().code]).toEqual([403, 'onboarding/four_eyes']);
  });

  it('tells the confirming reviewer that another must approve', async () => {
    const { strangerId } = await confirmedByOne();
    const body = (await page(`/console/requests/${strangerId}`, one)).body;
    expect(body).toContain('You confirmed the new technical contact: another reviewer must approve this request (four-eyes).');
  });

  it('leaves a confirmed contact unattached until the request is approved', async () => {
    const { stranger } = await confirmedByOne();
    expect((await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: stranger.id } })).attachedAt).toBeNull();
  });

  it('attaches the contact when a different reviewer approves', async () => {
    const { strangerId, stranger } = await confirmedByOne();
    const approved = await post(`/api/onboarding-requests/${strangerId}/approvals`, two, { environment: 'acceptance' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().contact).toMatchObject({ id: stranger.id, attached: true });
    expect((await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: stranger.id } })).attachedAt).not.toBeNull();
  });

  it('audits who confirmed the contact and who attached it', async () => {
    const { strangerId, stranger, partnerId } = await confirmedByOne();
    await post(`/api/onboarding-requests/${strangerId}/approvals`, two, { environment: 'acceptance' });
    const audit = await t.prisma.auditEvent.findMany({ where: { OR: [{ subjectId: strangerId }, { subjectId: partnerId }] }, orderBy: { seq: 'asc' } });
    expect(audit.find((e) => e.action === 'onboarding.contact_confirmed')).toMatchObject({ actorType: 'staff', actorId: one.staffId });
    expect(audit.find((e) => e.action === 'technical_contact.attached')).toMatchObject({
      actorId: two.staffId,
      detail: expect.objectContaining({ contactId: stranger.id, confirmedById: one.staffId, approvedById: two.staffId, onboardingRequestId: strangerId }),
    });
  });
});

describe('a request staff enter for a new contact of a known partner', () => {
  /** A partner we know, and a request staff member Three enters for it naming a new contact (Acceptance only). */
  async function enteredByThree() {
    const first = application();
    await partnerSubmits(t, first);
    const created = await post('/api/onboarding-requests', three, {
      ...application({ partner: { registrationNumber: first.partner.registrationNumber } }),
      items: [{ api: 'business', environment: 'acceptance' }],
    });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().id as string;
  }

  it('counts the staff member who entered it as the reviewer who confirmed the contact', async () => {
    const id = await enteredByThree();
    const view = (await t.inject({ method: 'GET', url: `/api/onboarding-requests/${id}`, headers: one.headers })).json();
    expect(view).toMatchObject({ contact: { attached: false }, contactVouchedById: three.staffId });
  });

  it('lets another reviewer approve it without a further confirmation', async () => {
    const id = await enteredByThree();
    expect((await post(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
  });
});
