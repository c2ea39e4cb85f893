import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { RequestedItem } from '../src/onboarding/onboarding.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { onboardingApplication, statusTokenOf, uniqueTag, type CreatedRequest } from './support/onboarding.factories.js';

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

const COMMUNITIES: RequestedItem[] = [
  { api: 'communities', environment: 'acceptance' },
  { api: 'communities', environment: 'production' },
];

/** A request staff enter through the JSON API. */
async function submit(body: Record<string, unknown>): Promise<CreatedRequest> {
  const res = await t.inject({ method: 'POST', url: '/api/onboarding-requests', headers: creator.headers, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A request staff enter for a new partner, with a contact address no other test mails. */
async function create(language: 'nl' | 'en', items = COMMUNITIES) {
  const application = onboardingApplication({
    partner: { legalName: `Buurtplatform ${uniqueTag()} B.V.` },
    contact: { name: 'Fatima El Amrani', email: `contact-${uniqueTag()}-${language}@partner.example`, mobile: '+31687654321' },
    language,
    purpose: 'A neighbourhood platform for the customers of our stores <b>and</b> their communities.',
    items,
  });
  return { ...(await submit({ ...application })), email: application.contact.email, application };
}
const post = (url: string, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: reviewer.headers, payload });
async function startReview(id: string) {
  const res = await post(`/api/onboarding-requests/${id}/start-review`);
  expect(res.statusCode, res.body).toBe(200);
}

/** The receipt of a new Dutch request, as it arrived. */
async function dutchReceipt() {
  const created = await create('nl');
  await notifications.drain();
  const [mail] = smtp.to(created.email);
  return { ...created, mail };
}

describe('the receipt', () => {
  it('goes out in Dutch with the reference and the status link, as HTML and plain text', async () => {
    const { reference, statusUrl, mail } = await dutchReceipt();
    expect(mail.subject).toBe(`We hebben uw aanvraag voor API-toegang ${reference} ontvangen`);
    expect(mail.text).toContain(statusUrl);
    expect(mail.text).toContain('Communities API (Acceptatie)');
    expect(mail.html).toContain(`href="${statusUrl}"`);
    expect(mail.html).toContain('<html lang="nl">');
    expect(mail.html).toContain(reference);
  });

  it('carries nothing the applicant typed (anyone can have the intake send it to any address)', async () => {
    const { mail } = await dutchReceipt();
    expect(mail.text).toContain('Goedendag,');
    for (const typed of ['Fatima El Amrani', 'Buurtplatform', 'neighbourhood platform']) {
      expect(mail.text, typed).not.toContain(typed);
      expect(mail.html, typed).not.toContain(typed);
      expect(mail.subject, typed).not.toContain(typed);
    }
  });

  it('puts the status token in the mailbox, never in the logs', async () => {
    const { statusUrl } = await dutchReceipt();
    expect(t.logs.join('\n')).not.toContain(statusTokenOf(statusUrl));
  });
});

describe('an application naming a registration number we already know', () => {
  /** A recorded partner, and a second application that reuses its registration number with a name and contact of its own. */
  async function typedOverKnown() {
    const recorded = await create('en');
    const email = `typed-${uniqueTag()}@elsewhere.example`;
    const typed = await submit({
      partner: { legalName: 'Typed Trading B.V.', registrationNumber: recorded.application.partner.registrationNumber, country: 'NL' },
      contact: { name: 'Tess Typed', email, mobile: '+31687650000' },
      language: 'en',
      purpose: 'Looking for who our competitor partners with, by registration number.',
      items: [{ api: 'communities', environment: 'acceptance' }],
    });
    return { recorded, recordedName: recorded.application.partner.legalName, typed, email };
  }
  /** The mails to the second applicant after a reviewer asked for changes. */
  async function mailsAfterChangesRequested() {
    const known = await typedOverKnown();
    await startReview(known.typed.id);
    await post(`/api/onboarding-requests/${known.typed.id}/request-changes`, { note: 'Please tell us more about your platform.' });
    await notifications.drain();
    return { ...known, mails: smtp.to(known.email) };
  }

  it('is recorded under the known partner', async () => {
    const { recorded, typed } = await typedOverKnown();
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: typed.id } });
    expect(row.partnerId).toBe((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: recorded.id } })).partnerId);
  });

  it('shows the applicant, on the status page, what they typed and never the recorded name or contact', async () => {
    const { typed, recordedName } = await typedOverKnown();
    const status = await t.inject({ method: 'GET', url: new URL(typed.statusUrl).pathname });
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain('<dd data-testid="organisation">Typed Trading B.V.</dd>');
    expect(status.body).toContain('<dd data-testid="contact-name">Tess Typed</dd>');
    expect(status.body).not.toContain(recordedName);
    expect(status.body).not.toContain('Fatima El Amrani');
  });

  it('keeps the recorded name out of every email to the applicant', async () => {
    const { mails, recordedName } = await mailsAfterChangesRequested();
    expect(mails.map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringContaining('received'), expect.stringContaining('change')]));
    for (const m of mails) {
      expect(m.text).not.toContain(recordedName);
      expect(m.html).not.toContain(recordedName);
    }
  });

  it('names the organisation as the applicant typed it in emails after a reviewer acted', async () => {
    const { mails } = await mailsAfterChangesRequested();
    expect(mails.find((m) => m.subject.includes('change'))!.text).toContain('Typed Trading B.V.');
  });

  it('shows staff the recorded name, with the typed one beside it', async () => {
    const { typed, recordedName } = await typedOverKnown();
    const console = await t.inject({ method: 'GET', url: `/console/requests/${typed.id}`, headers: { cookie: reviewer.headers.cookie, accept: 'text/html' } });
    expect(console.body).toContain(recordedName);
    expect(console.body).toContain('data-testid="applicant-legal-name">Typed Trading B.V.');
  });
});

describe('decisions', () => {
  /** An English request in review with Acceptance approved, and the mail that approval sent. */
  async function acceptanceApproved() {
    const a = await create('en');
    await startReview(a.id);
    await post(`/api/onboarding-requests/${a.id}/approvals`, { environment: 'acceptance' });
    await notifications.drain();
    return { ...a, approved: smtp.to(a.email).find((m) => m.subject.startsWith('Acceptance access approved'))! };
  }

  it('sends the Acceptance approval in English, naming Acceptance only', async () => {
    const { reference, approved } = await acceptanceApproved();
    expect(approved.subject).toBe(`Acceptance access approved for ${reference}`);
    expect(approved.text).toContain('Communities API (Acceptance)');
    expect(approved.text).not.toContain('Communities API (Production)');
    expect(approved.html).toContain('<html lang="en">');
  });

  it('sends the Production approval', async () => {
    const a = await acceptanceApproved();
    await post(`/api/onboarding-requests/${a.id}/approvals`, { environment: 'production' });
    await notifications.drain();
    expect(smtp.to(a.email).map((m) => m.subject)).toContain(`Production access approved for ${a.reference}`);
  });

  it('sends the rejection with its reason, escaped in the HTML', async () => {
    const b = await create('en');
    await startReview(b.id);
    await post(`/api/onboarding-requests/${b.id}/reject`, { reason: 'We only onboard <registered> employers & their suppliers.' });
    await notifications.drain();
    const rejected = smtp.to(b.email).find((m) => m.subject.includes('was not approved'))!;
    expect(rejected.text).toContain('We only onboard <registered> employers & their suppliers.');
    expect(rejected.html).toContain('We only onboard &lt;registered&gt; employers &amp; their suppliers.');
  });

  it('sends changes requested with the note, in Dutch', async () => {
    const c = await create('nl');
    await startReview(c.id);
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
