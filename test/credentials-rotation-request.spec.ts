import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { form, issueCredential } from './support/credentials.helpers.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const html = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
const drain = () => t.app.get(NotificationsService).drain();

describe('rotation requested by the partner', () => {
  it("asks only for the client_id, answers the same whatever it names, and confirms through the contact's email link", async () => {
    const page = await t.inject({ method: 'GET', url: '/rotate', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<label for="clientId">client_id</label>');

    const bad = await t.inject({ method: 'POST', url: '/rotate', headers: html, payload: form({ clientId: 'cbsk_acc_oops' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('There is a problem');
    expect(bad.body).toContain('href="#clientId"');

    const c = await issueCredential(t);
    const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
    const unknown = await t.inject({ method: 'POST', url: '/rotate', headers: html, payload: form({ clientId: 'acc_AAAAAAAAAAAAAAAAAAAA' }) });
    const known = await t.inject({ method: 'POST', url: '/rotate', headers: html, payload: form({ clientId: c.clientId }) });
    expect(unknown.statusCode).toBe(200);
    expect(known.statusCode).toBe(200);
    const text = (b: string) => b.replace(/<footer[\s\S]*<\/footer>/, '');
    expect(text(known.body)).toBe(text(unknown.body));
    // Asking again while one is open sends nothing more (no inbox flooding).
    expect((await t.inject({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: c.clientId } })).statusCode).toBe(202);
    await drain();
    const mails = smtp.to(contact.email).filter((m) => m.subject.startsWith('Confirm: new client secret'));
    expect(mails).toHaveLength(1);
    const token = /\/rotate\/confirm\/([A-Za-z0-9_-]{43})/.exec(mails[0].text)![1];
    const rotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId } });
    expect(rotation.state).toBe('awaiting_confirmation');
    expect(rotation.confirmTokenHash).not.toContain(token);

    const confirmPage = await t.inject({ method: 'GET', url: `/rotate/confirm/${token}`, headers: { accept: 'text/html' } });
    expect(confirmPage.statusCode).toBe(200);
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: rotation.id } })).state).toBe('awaiting_confirmation');
    const [first, second] = await Promise.all([
      t.inject({ method: 'POST', url: '/rotate/confirm', headers: html, payload: form({ token }) }),
      t.inject({ method: 'POST', url: '/rotate/confirm', headers: html, payload: form({ token }) }),
    ]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([200, 404]);
    const confirmed = await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: rotation.id } });
    expect(confirmed).toMatchObject({ state: 'awaiting_approval', requestedByType: 'partner_contact', requestedById: contact.id, confirmTokenHash: null });
    const confirmedAudit = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'credential.rotation_confirmed', subjectId: c.credentialId } });
    expect(confirmedAudit).toMatchObject({ actorType: 'partner_contact', actorId: contact.id, environment: 'acceptance' });

    // Any reviewer may approve a partner's request (the partner asked, staff approves: four-eyes).
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const approved = await t.inject({ method: 'POST', url: `/api/rotations/${rotation.id}/approve`, headers: reviewer.headers });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().state).toBe('delivering');
    await drain();
    expect(smtp.to(contact.email).some((m) => m.text.includes('/delivery#'))).toBe(true);
    const actions = (await t.prisma.auditEvent.findMany({ where: { subjectId: c.credentialId }, orderBy: { seq: 'asc' } })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['credential.rotation_requested', 'credential.rotation_confirmed', 'credential.rotation_approved']));
  });

  it('refuses an expired confirmation link', async () => {
    const c = await issueCredential(t);
    const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
    await t.inject({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: c.clientId } });
    await drain();
    const token = /\/rotate\/confirm\/([A-Za-z0-9_-]{43})/.exec(smtp.to(contact.email).at(-1)!.text)![1];
    t.clock.advance(25 * 3_600_000);
    const res = await t.inject({ method: 'POST', url: '/api/rotation-requests/confirm', payload: { token } });
    expect([res.statusCode, res.json().code]).toEqual([404, 'rotation/link_invalid']);
    // The lapsed request no longer blocks a rotation started by staff.
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const started = await t.inject({ method: 'POST', url: `/api/credentials/${c.credentialId}/rotations`, headers: reviewer.headers, payload: {} });
    expect(started.statusCode, started.body).toBe(201);
  });
});
