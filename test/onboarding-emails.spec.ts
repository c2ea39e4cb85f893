import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';

let t: TestApp;
let smtp: FakeSmtp;
let notifications: NotificationsService;
let creator: StaffLogin;
let reviewer: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Credentials <no-reply@credentials.example>' } });
  notifications = t.app.get(NotificationsService);
  creator = await createStaffWithSession(t, { role: 'reviewer' });
  reviewer = await createStaffWithSession(t, { role: 'reviewer' });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
});

let n = 0;
async function create(
  language: 'nl' | 'en',
  items = [
    { api: 'communities', environment: 'acceptance' },
    { api: 'communities', environment: 'production' },
  ],
) {
  n += 1;
  const email = `contact${n}-${language}@partner.example`;
  const res = await t.inject({
    method: 'POST',
    url: '/api/onboarding-requests',
    headers: creator.headers,
    payload: {
      partner: { legalName: `Buurtplatform ${n} B.V.`, registrationNumber: `6600${n}000`, country: 'NL' },
      contact: { name: 'Fatima El Amrani', email, mobile: '+31687654321' },
      language,
      purpose: 'A neighbourhood platform for the customers of our stores <b>and</b> their communities.',
      items,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { ...(res.json() as { id: string; reference: string; statusUrl: string }), email };
}
const post = (url: string, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: reviewer.headers, payload });

describe('emails to the technical contact', () => {
  it('sends the receipt in Dutch with the reference and the status link, as HTML and plain text', async () => {
    const { reference, statusUrl, email } = await create('nl');
    await notifications.drain();
    const [mail] = smtp.to(email);
    expect(mail.subject).toBe(`We hebben uw aanvraag voor API-toegang ${reference} ontvangen`);
    expect(mail.text).toContain(statusUrl);
    expect(mail.text).toContain('Communities API (Acceptatie)');
    // Anyone can have the intake send this to any address: it carries nothing the applicant typed.
    expect(mail.text).toContain('Goedendag,');
    for (const typed of ['Fatima El Amrani', 'Buurtplatform', 'neighbourhood platform']) {
      expect(mail.text, typed).not.toContain(typed);
      expect(mail.html, typed).not.toContain(typed);
      expect(mail.subject, typed).not.toContain(typed);
    }
    expect(mail.html).toContain(`href="${statusUrl}"`);
    expect(mail.html).toContain('<html lang="nl">');
    expect(mail.html).toContain(reference);
    // The status token reaches the partner's mailbox, never the logs.
    expect(t.logs.join('\n')).not.toContain(statusUrl.split('/').pop());
  });

  it('shows an application naming a known registration number what the applicant typed, never the recorded partner name', async () => {
    const recorded = await create('en');
    const recordedName = `Buurtplatform ${n} B.V.`;
    const email = `typed-${n}@elsewhere.example`;
    const res = await t.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: creator.headers,
      payload: {
        partner: { legalName: 'Typed Trading B.V.', registrationNumber: `6600${n}000`, country: 'NL' },
        contact: { name: 'Tess Typed', email, mobile: '+31687650000' },
        language: 'en',
        purpose: 'Looking for who our competitor partners with, by registration number.',
        items: [{ api: 'communities', environment: 'acceptance' }],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const typed = res.json() as { id: string; statusUrl: string };
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: typed.id } });
    expect(row.partnerId).toBe((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: recorded.id } })).partnerId);

    const status = await t.inject({ method: 'GET', url: new URL(typed.statusUrl).pathname });
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain('<dd data-testid="organisation">Typed Trading B.V.</dd>');
    expect(status.body).toContain('<dd data-testid="contact-name">Tess Typed</dd>');
    expect(status.body).not.toContain(recordedName);
    expect(status.body).not.toContain('Fatima El Amrani');

    await post(`/api/onboarding-requests/${typed.id}/start-review`);
    await post(`/api/onboarding-requests/${typed.id}/request-changes`, { note: 'Please tell us more about your platform.' });
    await notifications.drain();
    const mails = smtp.to(email);
    expect(mails.map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringContaining('received'), expect.stringContaining('change')]));
    for (const m of mails) {
      expect(m.text).not.toContain(recordedName);
      expect(m.html).not.toContain(recordedName);
    }
    // Later emails (after a reviewer acted) name the organisation as the applicant typed it.
    expect(mails.find((m) => m.subject.includes('change'))!.text).toContain('Typed Trading B.V.');
    // Staff still see the recorded name, with the typed one beside it.
    const console = await t.inject({ method: 'GET', url: `/console/requests/${typed.id}`, headers: { cookie: reviewer.headers.cookie, accept: 'text/html' } });
    expect(console.body).toContain(recordedName);
    expect(console.body).toContain('data-testid="applicant-legal-name">Typed Trading B.V.');
  });

  it('sends approval per environment, rejection with its reason and changes requested with the note, in English', async () => {
    const a = await create('en');
    await post(`/api/onboarding-requests/${a.id}/start-review`);
    await post(`/api/onboarding-requests/${a.id}/approvals`, { environment: 'acceptance' });
    await notifications.drain();
    const approved = smtp.to(a.email).find((m) => m.subject.startsWith('Acceptance access approved'))!;
    expect(approved.subject).toBe(`Acceptance access approved for ${a.reference}`);
    expect(approved.text).toContain('Communities API (Acceptance)');
    expect(approved.text).not.toContain('Communities API (Production)');
    expect(approved.html).toContain('<html lang="en">');
    await post(`/api/onboarding-requests/${a.id}/approvals`, { environment: 'production' });
    await notifications.drain();
    expect(smtp.to(a.email).map((m) => m.subject)).toContain(`Production access approved for ${a.reference}`);

    const b = await create('en');
    await post(`/api/onboarding-requests/${b.id}/start-review`);
    await post(`/api/onboarding-requests/${b.id}/reject`, { reason: 'We only onboard <registered> employers & their suppliers.' });
    await notifications.drain();
    const rejected = smtp.to(b.email).find((m) => m.subject.includes('was not approved'))!;
    expect(rejected.text).toContain('We only onboard <registered> employers & their suppliers.');
    expect(rejected.html).toContain('We only onboard &lt;registered&gt; employers &amp; their suppliers.');

    const c = await create('nl');
    await post(`/api/onboarding-requests/${c.id}/start-review`);
    await post(`/api/onboarding-requests/${c.id}/request-changes`, { note: 'Vraag eerst alleen Acceptatie aan.' });
    await notifications.drain();
    const changes = smtp.to(c.email).find((m) => m.subject.includes('aanpassen'))!;
    expect(changes.subject).toBe(`Wilt u uw aanvraag voor API-toegang ${c.reference} aanpassen?`);
    expect(changes.text).toContain('Vraag eerst alleen Acceptatie aan.');
    expect(changes.html).toContain('Vraag eerst alleen Acceptatie aan.');
  });

  it('sends nothing for a refused action (the email is part of the transaction)', async () => {
    const d = await create('en');
    await notifications.drain();
    const before = smtp.to(d.email).length;
    const own = await t.inject({ method: 'POST', url: `/api/onboarding-requests/${d.id}/start-review`, headers: creator.headers, payload: {} });
    expect(own.statusCode).toBe(200);
    const refused = await t.inject({
      method: 'POST',
      url: `/api/onboarding-requests/${d.id}/approvals`,
      headers: creator.headers,
      payload: { environment: 'acceptance' },
    });
    expect(refused.json().code).toBe('onboarding/four_eyes');
    await notifications.drain({ includeDelayed: true });
    expect(smtp.to(d.email)).toHaveLength(before);
  });
});
