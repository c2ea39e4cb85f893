import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { form, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { linkTokenFrom } from './support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let one: StaffLogin;
let two: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  [one, two] = await Promise.all([createStaffWithSession(t, { role: 'reviewer' }), createStaffWithSession(t, { role: 'reviewer' })]);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const drain = () => t.app.get(NotificationsService).drain();
const html = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
const page = (url: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } });
const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });
let ipSeq = 10;
const nextIp = () => `203.0.113.${ipSeq++}`;

/** A request through the JSON API for a contact who reads `language`. */
async function request(language: 'nl' | 'en') {
  const n = ipSeq++;
  const email = `pp-${language}-${n}@partner.example`;
  const res = await post('/api/onboarding-requests', one, {
    partner: { legalName: `Taalbedrijf ${n} B.V.`, registrationNumber: `7700${n}000`, country: 'NL' },
    contact: { name: 'Noor Visser', email, mobile: '+31687654321' },
    language,
    purpose: 'Our shop app shows lunch offers to employees of our customers.',
    items: [{ api: 'business', environment: 'acceptance' }],
  });
  expect(res.statusCode, res.body).toBe(201);
  return { ...(res.json() as { id: string; reference: string; statusUrl: string }), email };
}

/** An active credential whose contact reads `language`, rotated by two reviewers: the new secret is on its way. */
async function rotated(language: 'nl' | 'en', mobile?: string): Promise<{ c: IssuedCredential; email: string; mobile: string }> {
  const c = await issueCredential(t);
  const found = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
  const contact = await t.prisma.technicalContact.update({ where: { id: found.id }, data: { language, ...(mobile ? { mobile } : {}) } });
  const started = await post(`/api/credentials/${c.credentialId}/rotations`, one, { overlapDays: 3 });
  expect(started.statusCode, started.body).toBe(201);
  const approved = await post(`/api/rotations/${started.json().id}/approve`, two);
  expect(approved.statusCode, approved.body).toBe(200);
  await drain();
  return { c, email: contact.email, mobile: contact.mobile };
}

/** The partner's pages from the emailed link to the secret: open, send the code, reveal. */
async function throughThePages(email: string, mobile: string) {
  const token = linkTokenFrom(
    smtp
      .to(email)
      .filter((m) => m.text.includes('/delivery#'))
      .at(-1)!.text,
  );
  const ip = nextIp();
  const opened = await t.inject({ method: 'POST', url: '/delivery/open', headers: html, payload: form({ token }), remoteAddress: ip });
  const sent = await t.inject({ method: 'POST', url: '/delivery/code', headers: html, payload: form({ token }), remoteAddress: ip });
  await drain();
  const code = /\b(\d{8})\b/.exec(twilio.to(mobile).at(-1)!.body)![1];
  const secret = await t.inject({ method: 'POST', url: '/delivery/reveal', headers: html, payload: form({ token, code }), remoteAddress: ip });
  expect(secret.statusCode, secret.body).toBe(200);
  await drain();
  const again = await t.inject({ method: 'POST', url: '/delivery/open', headers: html, payload: form({ token }), remoteAddress: ip });
  return { opened, sent, secret, again, notice: smtp.to(email).at(-1)! };
}

describe("partner pages in the contact's language", () => {
  it("shows a Dutch contact the rotated secret in Dutch, with the developer's next steps and when the old secret stops", async () => {
    const { c, email, mobile } = await rotated('nl');
    const before = Date.now();
    const p = await throughThePages(email, mobile);
    expect(p.opened.body).toContain('<html lang="nl"');
    expect(p.opened.body).toContain('Stuur mij de code');
    expect(p.opened.body).toContain('Acceptatie');
    expect(p.opened.body).toContain('data-testid="replacement-notice"');
    expect(p.sent.body).toContain('We hebben een code gestuurd naar');

    const body = p.secret.body;
    expect(body).toContain('<html lang="nl"');
    expect(body).toContain('Uw nieuwe secret voor Business API');
    const endsAt = new Date(before + 3 * 86_400_000).toISOString().slice(0, 13);
    expect(body).toMatch(new RegExp(`Het oude secret blijft werken tot ${endsAt.replace('T', ' ')}:\\d\\d UTC`));
    expect(body).toContain('Volgende stappen voor uw ontwikkelaar');
    expect(body).toContain(`-u &quot;${c.clientId}:$CLIENT_SECRET&quot;`);
    expect(body).toContain('-d scope=business');
    expect(body).toContain('resource=https://business-api.acceptance.example.com');
    expect(body).toContain('15 minuten');
    expect(body).toContain('http://localhost:3000/.well-known/oauth-authorization-server/oauth/acceptance');
    expect(body).toContain('http://localhost:3000/oauth/acceptance/jwks');
    expect(body).toContain('href="https://developer.example.com/business-api/acceptance"');
    expect(body).toContain('href="/environments?lang=nl"');
    expect(body).toContain('<a href="/token-explain">Zoek uit waarom het access token werd geweigerd');
    // The secret is on the page once, plus its own .env line: the token request never carries it.
    const secret = /data-testid="client-secret">([^<]+)</.exec(body)![1];
    expect(body.split(secret)).toHaveLength(3);
    expect(/data-testid="token-request">([^<]+)</.exec(body)![1]).not.toContain(secret);
    expect(p.again.body).toContain('Al opgehaald');

    expect(p.notice.subject).toContain('opgehaald');
    expect(p.notice.text).toContain('nieuwe client secret dat het eerdere vervangt');
    expect(p.notice.text).toMatch(new RegExp(`Het oude secret blijft werken tot ${endsAt.replace('T', ' ')}:\\d\\d UTC`));
    expect(p.notice.text).toContain(`-u "${c.clientId}:$CLIENT_SECRET"`);
    expect(p.notice.text).toContain('API-documentatie: https://developer.example.com/business-api/acceptance');
    expect(p.notice.text).toContain('http://localhost:3000/environments');
    expect(p.notice.text).not.toContain(secret);
    expect(p.notice.html).not.toContain(secret);
  });

  it('tells a Dutch contact in Dutch why no code is sent: a landline, a SIM change', async () => {
    // Numbers of their own: Lookup answers are cached per number.
    const codePage = async (mobile: string, entry: Parameters<typeof twilio.numbers.set>[1]) => {
      const { email } = await rotated('nl', mobile);
      twilio.numbers.set(mobile, entry);
      const token = linkTokenFrom(
        smtp
          .to(email)
          .filter((m) => m.text.includes('/delivery#'))
          .at(-1)!.text,
      );
      const ip = nextIp();
      const asked = await t.inject({ method: 'POST', url: '/delivery/code', headers: html, payload: form({ token }), remoteAddress: ip });
      const opened = await t.inject({ method: 'POST', url: '/delivery/open', headers: html, payload: form({ token }), remoteAddress: ip });
      return { asked, opened };
    };
    const landline = await codePage('+31201234567', { lineType: 'landline' });
    expect(landline.asked.body).toContain('<html lang="nl"');
    expect(landline.asked.body).toContain(
      'Er is geen code gestuurd: het mobiele nummer dat wij van u hebben is geen lijn die codes betrouwbaar ontvangt (landline)',
    );

    const held = await codePage('+31698765432', { swappedAt: new Date(Date.now() - 86_400_000) });
    expect(held.asked.body).toContain('de simkaart van dit mobiele nummer is kort geleden vervangen');
    expect(held.opened.body).toContain('<html lang="nl"');
    expect(held.opened.body).toContain('Er kan nu geen code worden gestuurd');
    expect(held.opened.body).toContain('de simkaart van dit mobiele nummer is kort geleden vervangen');
    expect(held.opened.body).not.toContain('No code can be sent right now');
    expect(held.opened.body).not.toContain('the SIM card of this mobile number');
  });

  it('shows an English contact the same pages in English', async () => {
    const { email, mobile } = await rotated('en');
    const p = await throughThePages(email, mobile);
    expect(p.opened.body).toContain('<html lang="en"');
    expect(p.opened.body).toContain('Send me the code');
    expect(p.opened.body).toContain('Acceptance');
    expect(p.secret.body).toContain('Your new Business API secret');
    expect(p.secret.body).toMatch(/The old secret keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(p.secret.body).toContain('Next steps for your developer');
    expect(p.secret.body).toContain('15 minutes');
    expect(p.again.body).toContain('Already retrieved');
    expect(p.notice.text).toMatch(/The old secret keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(p.notice.text).toContain('Next steps for your developer');
  });

  it("opens the delivery start page in the browser's language, or the one asked for", async () => {
    expect((await page('/delivery', { 'accept-language': 'nl-NL,nl;q=0.9' })).body).toContain('Haal uw API-inloggegevens op');
    expect((await page('/delivery?lang=en', { 'accept-language': 'nl-NL' })).body).toContain('Retrieve your API credentials');
    const bad = await t.inject({ method: 'POST', url: '/delivery/open', headers: html, payload: form({ token: 'x'.repeat(43), lang: 'nl' }) });
    expect(bad.body).toContain('<html lang="nl"');
    expect(bad.body).toContain('Er is een probleem');
  });

  it("shows the rotation confirmation in the contact's language from the emailed link", async () => {
    const c = await issueCredential(t);
    const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
    await t.prisma.technicalContact.update({ where: { id: contact.id }, data: { language: 'nl' } });
    const asked = await t.inject({ method: 'POST', url: '/rotate', headers: html, payload: form({ clientId: c.clientId, lang: 'nl' }) });
    expect(asked.body).toContain('<html lang="nl"');
    expect(asked.body).toContain('Kijk in uw e-mail');
    await drain();
    const mail = smtp.to(contact.email).at(-1)!;
    expect(mail.text).toContain('Acceptatie');
    const link = /(\/rotate\/confirm\/[A-Za-z0-9_-]{43}\?lang=nl)/.exec(mail.text)![1];
    const confirm = await page(link);
    expect(confirm.body).toContain('<html lang="nl"');
    expect(confirm.body).toContain('Ja, ik heb een nieuw secret aangevraagd');
    const token = /name="token" value="([^"]+)"/.exec(confirm.body)![1];
    const done = await t.inject({ method: 'POST', url: '/rotate/confirm', headers: html, payload: form({ token, lang: 'nl' }) });
    expect(done.body).toContain('Aanvraag bevestigd');
    const again = await t.inject({ method: 'POST', url: '/rotate/confirm', headers: html, payload: form({ token, lang: 'nl' }) });
    expect(again.statusCode).toBe(404);
    expect(again.body).toContain('Deze link werkt niet');
    const english = await page('/rotate', { 'accept-language': 'en-GB' });
    expect(english.body).toContain('<html lang="en"');
    expect(english.body).toContain('Ask for a new client secret');
  });
});

describe('status pages and emails', () => {
  it('sends the status link with "changes requested" and the approval, and shows a Dutch contact a Dutch status page', async () => {
    const r = await request('nl');
    expect((await post(`/api/onboarding-requests/${r.id}/start-review`, two, {})).statusCode).toBe(200);
    const changes = await post(`/api/onboarding-requests/${r.id}/request-changes`, two, { note: 'Vertel meer over de klanten.' });
    expect(changes.statusCode, changes.body).toBe(200);
    await drain();
    const changesMail = smtp.to(r.email).find((m) => m.subject.includes('aanpassen'))!;
    expect(changesMail.subject).toContain(r.reference);
    expect(changesMail.text).toContain(r.statusUrl);
    expect(changesMail.html).toContain(`href="${r.statusUrl}"`);

    const status = await page(new URL(r.statusUrl).pathname);
    expect(status.body).toContain('<html lang="nl"');
    expect(status.body).toContain('Aanpassing gevraagd');
    expect(status.body).toContain('>Acceptatie<');
    const token = new URL(r.statusUrl).pathname.split('/').pop()!;
    const edit = await page(`/requests/${token}/edit`);
    expect(edit.body).toContain('Welke API&#39;s en omgevingen hebt u nodig?');
    const resent = await t.inject({
      method: 'POST',
      url: `/requests/${token}/edit`,
      headers: html,
      payload: form({ purpose: 'Our shop app shows lunch offers to employees of our customers, in stores.', items: 'business:acceptance' }),
    });
    expect(resent.statusCode).toBe(303);
    expect((await post(`/api/onboarding-requests/${r.id}/start-review`, two, {})).statusCode).toBe(200);
    const approved = await post(`/api/onboarding-requests/${r.id}/approvals`, two, { environment: 'acceptance' });
    expect(approved.statusCode, approved.body).toBe(200);
    await drain();
    const approval = smtp.to(r.email).find((m) => m.subject.includes('goedgekeurd'))!;
    expect(approval).toBeDefined();
    expect(approval.text).toContain(r.statusUrl);
    expect(approval.text).toContain('http://localhost:3000/environments?lang=nl');
    expect(approval.html).toContain(`href="${r.statusUrl}"`);
    // The status token is kept sealed, never in plaintext.
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: r.id } });
    expect(row.statusTokenEnc).toMatch(/^v2\./);
    expect(row.statusTokenEnc).not.toContain(token);
  });

  it('shows an English contact an English status page', async () => {
    const r = await request('en');
    const status = await page(new URL(r.statusUrl).pathname);
    expect(status.body).toContain('<html lang="en"');
    expect(status.body).toContain('Received');
    expect(status.body).toContain('>Acceptance<');
  });
});

describe('the intake form', () => {
  it('switches language, remembers it through the form, and pre-selects the contact language', async () => {
    const nl = await page('/apply?lang=nl');
    expect(nl.body).toContain('<html lang="nl"');
    expect(nl.body).toContain('API-toegang aanvragen');
    expect(nl.body).toContain('<input type="hidden" name="lang" value="nl">');
    expect(nl.body).toMatch(/id="language-nl" name="language" value="nl" checked/);
    expect(nl.body).toContain('href="/apply?lang=en"');
    const en = await page('/apply?lang=en');
    expect(en.body).toContain('<html lang="en"');
    expect(en.body).toMatch(/id="language-en" name="language" value="en" checked/);
    const formIssuedAt = /name="formIssuedAt" value="([^"]+)"/.exec(nl.body)![1];
    const errors = await t.inject({
      method: 'POST',
      url: '/apply',
      headers: html,
      remoteAddress: nextIp(),
      payload: form({ lang: 'nl', formIssuedAt, contactEmail: 'x@', country: 'NL', language: 'nl' }),
    });
    expect(errors.statusCode).toBe(400);
    expect(errors.body).toContain('<html lang="nl"');
    expect(errors.body).toContain('Er is een probleem');
    expect(errors.body).toContain('Vul een e-mailadres in de juiste vorm in');
  });

  it("accepts a national mobile number in the form's country and stores it as E.164", async () => {
    const ip = nextIp();
    const start = await page('/apply?lang=nl');
    const formIssuedAt = /name="formIssuedAt" value="([^"]+)"/.exec(start.body)![1];
    const answers = {
      lang: 'nl',
      legalName: 'Nationaal Nummer B.V.',
      registrationNumber: '44556677',
      country: 'NL',
      businessRepresentative: '',
      contactName: 'Nina Nummer',
      contactEmail: 'nina@nummer.example',
      contactMobile: '06 2345 6789',
      language: 'nl',
      purpose: 'We show lunch offers to employees of our customers.',
      items: 'business:acceptance',
      formIssuedAt,
    };
    const check = await t.inject({ method: 'POST', url: '/apply', headers: html, remoteAddress: ip, payload: form(answers) });
    expect(check.statusCode, check.body).toBe(200);
    expect(check.body).toContain('Controleer uw antwoorden');
    t.clock.advance(10_000);
    const sent = await t.inject({ method: 'POST', url: '/apply/submit', headers: html, remoteAddress: ip, payload: form(answers) });
    expect(sent.statusCode, sent.body).toBe(303);
    const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { email: 'nina@nummer.example' } });
    expect(contact.mobile).toBe('+31623456789');
    const confirmation = await page(sent.headers.location as string);
    expect(confirmation.body).toContain('Aanvraag verstuurd');

    // A national VoIP number is still refused once read.
    const voip = await t.inject({
      method: 'POST',
      url: '/apply',
      headers: html,
      remoteAddress: ip,
      payload: form({ ...answers, contactMobile: '085 123 4567' }),
    });
    expect(voip.statusCode).toBe(400);
    expect(voip.body).toContain('Internetnummers (VoIP)');
  });
});

describe('the environments page', () => {
  it('lists every API per environment from the catalogue, in Dutch and English', async () => {
    const en = await page('/environments?lang=en');
    expect(en.statusCode).toBe(200);
    expect(en.body).toContain('<html lang="en"');
    expect(en.body).toContain('processes no orders and sends no emails or SMS');
    for (const api of ['business', 'cafetariaplan', 'communities']) {
      expect(en.body).toContain(`https://${api}-api.acceptance.example.com`);
      expect(en.body).toContain(`https://${api}-api.example.com`);
      expect(en.body).toContain(`https://developer.example.com/${api}-api`);
    }
    expect(en.body).toContain('http://localhost:3000/oauth/production/token');
    expect(en.body).toContain('http://localhost:3000/oauth/acceptance/jwks');
    const nl = await page('/environments?lang=nl');
    expect(nl.body).toContain('<html lang="nl"');
    expect(nl.body).toContain('verwerkt geen bestellingen');
    expect(nl.body).toContain('>Productie<');
    expect((await page('/')).body).toContain('href="/environments"');
  });
});
