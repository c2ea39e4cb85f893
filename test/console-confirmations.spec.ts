import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import type { SubmitInput } from '../src/onboarding/onboarding.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { DeliveryDriver, linkTokenFrom } from './support/delivery-harness.js';
import { basic, createPartner, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let one: StaffLogin;
let two: StaffLogin;
let admin: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  drv = new DeliveryDriver(t, smtp, twilio);
  [one, two, admin] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Una One' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Tim Two' }),
    createStaffWithSession(t, { role: 'admin', name: 'Ada Admin' }),
  ]);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const api = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });
const page = (url: string, as: StaffLogin) => t.inject({ method: 'GET', url, headers: { cookie: as.headers.cookie, accept: 'text/html' } });
function consoleForm(url: string, as: StaffLogin, fields: Record<string, string>) {
  return t.inject({
    method: 'POST',
    url,
    headers: { cookie: as.headers.cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ ...fields, _csrf: as.headers['x-csrf-token'] }),
  });
}
const token = (clientId: string, secret: string) =>
  t.inject({
    method: 'POST',
    url: '/oauth/acceptance/token',
    headers: { ...FORM_HEADERS, authorization: basic(clientId, secret) },
    payload: form({ grant_type: 'client_credentials' }),
  });

/** The confirmation page: the consequence in words, the POST form with the CSRF field, and a way back. */
function expectConfirmation(body: string, opts: { action: string; cancel: string; destructive: boolean }) {
  expect(body).toContain(`<form method="post" action="${opts.action}" novalidate>`);
  expect(body).toMatch(/name="_csrf" value="[^"]+"/);
  expect(body).toContain(`<a href="${opts.cancel}" data-testid="confirm-cancel">Cancel</a>`);
  expect(body.includes('<button type="submit" class="warning" data-testid="confirm-button">')).toBe(opts.destructive);
}

let n = 0;
async function requestInReview(): Promise<string> {
  n += 1;
  const input: SubmitInput = {
    partner: {
      legalName: `Bevestig ${n} B.V.`,
      registrationNumber: `7${String(n).padStart(3, '0')}${randomUUID().replace(/\D/g, '').slice(0, 4)}`,
      country: 'NL',
    },
    contact: { name: 'Pim Partner', email: `pim${n}-${randomUUID().slice(0, 6)}@partner.example`, mobile: '+31612300000' },
    language: 'en',
    purpose: 'Our till software reads the business customer record at checkout.',
    items: [
      { api: 'business', environment: 'acceptance' },
      { api: 'business', environment: 'production' },
    ],
  };
  const ctx = { correlationId: randomUUID(), clientIp: '203.0.113.9', userAgent: null, actor: { type: 'partner_contact' as const, id: null } };
  const { id } = await t.app.get(OnboardingService).submit(ctx, input);
  expect((await api(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
  expect((await api(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
  return id;
}

describe('confirmation pages before actions that cannot be undone', () => {
  it('revoking: the page says what stops working; only the POST from it revokes, and it needs a reason', async () => {
    const c = await issueCredential(t);
    const detail = (await page(`/console/credentials/${c.credentialId}`, one)).body;
    expect(detail).toContain(`href="/console/credentials/${c.credentialId}/revoke"`);
    expect(detail).not.toContain(`action="/console/credentials/${c.credentialId}/revoke"`);

    const confirm = await page(`/console/credentials/${c.credentialId}/revoke`, one);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('every secret of it stops working at once');
    expect(confirm.body).toContain(c.clientId);
    expectConfirmation(confirm.body, {
      action: `/console/credentials/${c.credentialId}/revoke`,
      cancel: `/console/credentials/${c.credentialId}`,
      destructive: true,
    });
    expect((await t.prisma.credential.findUniqueOrThrow({ where: { id: c.credentialId } })).state).toBe('active');

    const noReason = await consoleForm(`/console/credentials/${c.credentialId}/revoke`, one, { reason: '' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toMatch(/class="error-summary"[^>]*autofocus/);
    expect(noReason.body).toContain('Say why you revoke');
    expect(noReason.body).toContain('Yes, revoke this credential');
    expect((await t.prisma.credential.findUniqueOrThrow({ where: { id: c.credentialId } })).state).toBe('active');

    const done = await consoleForm(`/console/credentials/${c.credentialId}/revoke`, one, { reason: 'Partner asked to stop' });
    expect(done.statusCode).toBe(303);
    expect((await t.prisma.credential.findUniqueOrThrow({ where: { id: c.credentialId } })).state).toBe('revoked');
    expect((await token(c.clientId, c.secret)).statusCode).toBe(401);
    // A revoked credential has nothing left to confirm.
    expect((await page(`/console/credentials/${c.credentialId}/revoke`, one)).headers.location).toBe(`/console/credentials/${c.credentialId}`);
  });

  it("revoking all of a partner's credentials: the page says how many, where, and that tokens stop; only the confirmed POST revokes", async () => {
    const partner = await createPartner(t);
    const first = await issueCredential(t, { partner, environment: 'acceptance' });
    const second = await issueCredential(t, { partner, environment: 'production' });
    const url = `/console/partners/${first.partnerId}/credentials/revoke`;
    const states = async () =>
      (await t.prisma.credential.findMany({ where: { partnerId: first.partnerId }, orderBy: { createdAt: 'asc' } })).map((c) => c.state);
    const audits = () => t.prisma.auditEvent.count({ where: { action: 'partner.credentials_revoked', subjectId: first.partnerId } });

    const list = (await page(`/console/credentials?partnerId=${first.partnerId}`, one)).body;
    expect(list).toContain(`href="${url}"`);
    expect(list).not.toContain(`action="${url}"`);

    const confirm = await page(url, one);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Revoke all 2 credentials of');
    expect(confirm.body).toContain('Business API (Acceptance, Production)');
    expect(confirm.body).toContain('tokens already issued are refused immediately');
    expect(confirm.body).toContain('1 of them is in Production');
    expect(confirm.body).toContain(first.clientId);
    expect(confirm.body).toContain(second.clientId);
    expect(confirm.body).toContain('<input type="hidden" name="confirm" value="yes">');
    expectConfirmation(confirm.body, { action: url, cancel: `/console/credentials?partnerId=${first.partnerId}`, destructive: true });
    expect(await states()).toEqual(['active', 'active']);

    // A POST that did not come from the confirmation page (an old one-click form) only shows the consequence.
    const oneClick = await consoleForm(url, one, { reason: 'Contract ended' });
    expect(oneClick.statusCode).toBe(200);
    expect(oneClick.body).toContain('Yes, revoke all 2 credentials');
    expect(oneClick.body).toContain('value="Contract ended"');
    expect(await states()).toEqual(['active', 'active']);

    const noReason = await consoleForm(url, one, { reason: ' x ', confirm: 'yes' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toMatch(/class="error-summary"[^>]*autofocus/);
    expect(noReason.body).toContain('Say why you revoke');
    expect(await states()).toEqual(['active', 'active']);
    expect(await audits()).toBe(0);

    const done = await consoleForm(url, one, { reason: 'Contract ended', confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/console/credentials?partnerId=${first.partnerId}&revoked=2`);
    expect(await states()).toEqual(['revoked', 'revoked']);
    expect(await audits()).toBe(1);
    expect((await token(first.clientId, first.secret)).statusCode).toBe(401);
    // Nothing left to revoke: back to the list.
    expect((await page(url, one)).headers.location).toBe(`/console/credentials?partnerId=${first.partnerId}`);
  });

  it('approving Production: the page names the partner, the APIs and the contact; the POST approves', async () => {
    const id = await requestInReview();
    const detail = (await page(`/console/requests/${id}`, two)).body;
    expect(detail).toContain(`<form method="get" action="/console/requests/${id}/approve">`);
    const current = /name="version" value="(\d+)"/.exec(detail)![1];
    const confirm = await page(`/console/requests/${id}/approve?environment=production&version=${current}`, two);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toMatch(/gets access to Business[^.]* in Production, with live data/);
    expect(confirm.body).toContain('Pim Partner');
    // The version the reviewer saw travels on: a change in between is refused as a conflict, not approved blind.
    expect(confirm.body).toContain(`name="version" value="${current}"`);
    expectConfirmation(confirm.body, { action: `/console/requests/${id}/approve`, cancel: `/console/requests/${id}`, destructive: true });
    expect(await t.prisma.onboardingApproval.count({ where: { requestId: id, environment: 'production' } })).toBe(0);

    const version = /name="version" value="(\d+)"/.exec(confirm.body)![1];
    const done = await consoleForm(`/console/requests/${id}/approve`, two, { environment: 'production', version });
    expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
    expect(await t.prisma.onboardingApproval.count({ where: { requestId: id, environment: 'production' } })).toBe(1);
  });

  it('issuing: the page says how many credentials go to whom; the POST issues them', async () => {
    const id = await requestInReview();
    const detail = (await page(`/console/requests/${id}`, two)).body;
    expect(detail).toContain('<form method="get" action="/console/credentials/issue/confirm">');
    const confirm = await page(`/console/credentials/issue/confirm?requestId=${id}&environment=acceptance`, two);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toMatch(/This creates 1 credential for Bevestig \d+ B\.V\. in Acceptance/);
    expect(confirm.body).toContain('a one-time link by email and a code by SMS');
    expectConfirmation(confirm.body, { action: '/console/credentials/issue', cancel: `/console/requests/${id}`, destructive: false });
    expect(await t.prisma.credential.count({ where: { onboardingRequestId: id } })).toBe(0);

    const done = await consoleForm('/console/credentials/issue', two, { requestId: id, environment: 'acceptance' });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Credentials issued');
    expect(await t.prisma.credential.count({ where: { onboardingRequestId: id } })).toBe(1);
    // Nothing left to issue: the confirmation page sends the reviewer back to the list.
    expect((await page(`/console/credentials/issue/confirm?requestId=${id}&environment=acceptance`, two)).headers.location).toBe('/console/credentials/issue');
  });

  it('ending an overlap: the page says the old secret stops working; the POST ends it', async () => {
    const c = await issueCredential(t);
    const started = await api(`/api/credentials/${c.credentialId}/rotations`, one, { overlapDays: 3 });
    expect((await api(`/api/rotations/${started.json().id}/approve`, two)).statusCode).toBe(200);
    const newSecret = await revealNewest(c);
    expect((await api(`/api/credentials/${c.credentialId}/early-end-request`, one)).statusCode).toBe(200);

    const confirm = await page(`/console/credentials/${c.credentialId}/end-overlap`, two);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('The old secret stops working at once');
    expect(confirm.body).toContain('recorded as an override');
    expectConfirmation(confirm.body, {
      action: `/console/credentials/${c.credentialId}/end-overlap`,
      cancel: `/console/credentials/${c.credentialId}`,
      destructive: true,
    });
    expect((await token(c.clientId, c.secret)).statusCode).toBe(200);

    const done = await consoleForm(`/console/credentials/${c.credentialId}/end-overlap`, two, {});
    expect(done.statusCode).toBe(303);
    expect((await token(c.clientId, c.secret)).statusCode).toBe(401);
    expect((await token(c.clientId, newSecret)).statusCode).toBe(200);
  });

  it('disabling staff: the page says they are signed out at once; the POST disables', async () => {
    const member = await createStaffWithSession(t, { role: 'viewer', name: 'Vera Viewer' });
    const detail = (await page(`/console/staff/${member.staffId}`, admin)).body;
    expect(detail).toContain(`href="/console/staff/${member.staffId}/disable"`);
    const confirm = await page(`/console/staff/${member.staffId}/disable`, admin);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Vera Viewer is signed out at once, on every device');
    expectConfirmation(confirm.body, { action: `/console/staff/${member.staffId}/disable`, cancel: `/console/staff/${member.staffId}`, destructive: true });
    expect((await page('/console/account', member)).statusCode).toBe(200);

    const done = await consoleForm(`/console/staff/${member.staffId}/disable`, admin, {});
    expect(done.statusCode).toBe(303);
    expect((await t.prisma.staffAccount.findUniqueOrThrow({ where: { id: member.staffId } })).disabledAt).not.toBeNull();
    expect((await page('/console/account', member)).headers.location).toBe('/console/sign-in');
    // Viewers and reviewers cannot even see the page.
    expect((await page(`/console/staff/${admin.staffId}/disable`, one)).statusCode).toBe(403);
  });
});

let ipSeq = 0;
async function revealNewest(c: IssuedCredential): Promise<string> {
  await t.app.get(NotificationsService).drain();
  const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
  const mail = smtp
    .to(contact.email)
    .filter((m) => m.text.includes('/delivery#'))
    .at(-1)!;
  const link = linkTokenFrom(mail.text);
  const ip = `198.51.100.${(ipSeq++ % 200) + 20}`;
  const code = await drv.code(link, contact.mobile, ip);
  const res = await drv.reveal(link, code, ip);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().clientSecret as string;
}
