import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { issueCredential } from './support/credentials.helpers.js';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

const skip = reportBrowserSkip('partner-pages');
let t: TestApp;
let b: BrowserApp;
let base: string;
let one: StaffLogin;
let two: StaffLogin;

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp({ env: { DEV_OUTBOX: 'true' } });
  ({ t, base } = b);
  [one, two] = await Promise.all([createStaffWithSession(t, { role: 'reviewer' }), createStaffWithSession(t, { role: 'reviewer' })]);
});
afterAll(async () => {
  await b?.close();
});

type Message = { channel: string; to: string; text: string };
async function outbox(): Promise<Message[]> {
  await t.app.get(NotificationsService).drain();
  return ((await (await fetch(`${base}/dev/outbox.json`)).json()) as { messages: Message[] }).messages;
}

const WORDS = {
  en: {
    apply: 'Request API access',
    check: 'Check your answers',
    sent: 'Application sent',
    status: 'Received',
    env: 'Environments',
    rotate: 'Ask for a new client secret',
    start: 'Retrieve your API credentials',
    sendCode: 'Send me the code',
    code: /The 8-digit code/,
    show: 'Show the secret',
    next: 'Next steps for your developer',
    confirm: 'Yes, I asked for a new secret',
  },
  nl: {
    apply: 'API-toegang aanvragen',
    check: 'Controleer uw antwoorden',
    sent: 'Aanvraag verstuurd',
    status: 'Ontvangen',
    env: 'Omgevingen',
    rotate: 'Vraag een nieuw client secret aan',
    start: 'Haal uw API-inloggegevens op',
    sendCode: 'Stuur mij de code',
    code: /De code van 8 cijfers/,
    show: 'Toon het secret',
    next: 'Volgende stappen voor uw ontwikkelaar',
    confirm: 'Ja, ik heb een nieuw secret aangevraagd',
  },
} as const;

const results: Array<{ name: string; violations: string[]; widthAt375: number }> = [];
async function check(page: Page, name: string, lang: 'en' | 'nl', phrase: string | RegExp) {
  expect(await page.locator('html').getAttribute('lang'), name).toBe(lang);
  expect(await page.content(), name).toMatch(phrase);
  const r = await checkPage(page, `partner-${name}-${lang}`);
  results.push({ name: `${name}-${lang}`, ...r });
  expect(r.violations, name).toEqual([]);
  expect(r.widthAt375, name).toBeLessThanOrEqual(375);
}

describe.skipIf(skip)('every partner page state, in Dutch and English', () => {
  it.each(['en', 'nl'] as const)(
    'passes the accessibility and reflow bar in %s',
    async (lang) => {
      const w = WORDS[lang];
      const context = await b.context({ locale: lang === 'nl' ? 'nl-NL' : 'en-GB' });
      const page = await context.newPage();
      const problems = watchPage(page);
      const n = lang === 'nl' ? 1 : 2;

      // Intake: form, errors, check your answers, confirmation, status page.
      await page.goto(`/apply?lang=${lang}`);
      await check(page, 'apply', lang, w.apply);
      await page.locator('#contactEmail').fill('nobody@');
      await page.locator('form[action="/apply"] button[type="submit"]').click();
      await page.locator('.error-summary').waitFor();
      await check(page, 'apply-errors', lang, lang === 'nl' ? 'Er is een probleem' : 'There is a problem');
      await page.locator('#legalName').fill(`Browser Taal ${n} B.V.`);
      await page.locator('#registrationNumber').fill(`8800${n}111`);
      await page.locator('#contactName').fill('Bo Browser');
      await page.locator('#contactEmail').fill(`bo-${lang}@browser.example`);
      await page.locator('#contactMobile').fill('06 3456 7890');
      await page.locator('#item-business-acceptance').check();
      await page.locator('#purpose').fill('Our bakery app shows lunch offers and takes orders from employees.');
      await page.locator('form[action="/apply"] button[type="submit"]').click();
      await page.getByRole('heading', { name: new RegExp(w.check) }).waitFor();
      await check(page, 'apply-check', lang, w.check);
      t.clock.advance(10_000);
      await page.locator('form[action="/apply/submit"] button[type="submit"]').first().click();
      await page.getByTestId('reference').waitFor();
      await check(page, 'apply-confirmation', lang, w.sent);
      await page.goto((await page.getByTestId('status-link').getAttribute('href'))!);
      await check(page, 'status', lang, w.status);

      await page.goto(`/environments?lang=${lang}`);
      await check(page, 'environments', lang, w.env);

      // Rotation: ask (with an error first), check your email, confirm, confirmed.
      const c = await issueCredential(t);
      const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });
      await t.prisma.technicalContact.update({ where: { id: contact.id }, data: { language: lang, mobile: `+3161111${n}000` } });
      await page.goto(`/rotate?lang=${lang}`);
      await check(page, 'rotate', lang, w.rotate);
      await page.locator('#clientId').fill('cbsk_oops');
      await page.locator('form[action="/rotate"] button[type="submit"]').click();
      await page.locator('.error-summary').waitFor();
      await check(page, 'rotate-error', lang, 'client_id');
      await page.locator('#clientId').fill(c.clientId);
      await page.locator('form[action="/rotate"] button[type="submit"]').click();
      await page.locator('article.confirmation').waitFor();
      await check(page, 'rotate-requested', lang, w.rotate === WORDS.en.rotate ? 'Check your email' : 'Kijk in uw e-mail');
      const confirmLink = /(\/rotate\/confirm\/\S+)/.exec((await outbox()).filter((m) => m.to === contact.email).at(-1)!.text)![1];
      await page.goto(confirmLink);
      await check(page, 'rotate-confirm', lang, w.confirm);
      await page.getByRole('button', { name: w.confirm }).click();
      await page.locator('article.confirmation').waitFor();
      await check(page, 'rotate-confirmed', lang, lang === 'nl' ? 'Aanvraag bevestigd' : 'Request confirmed');

      // The rotation approved by a reviewer; the new secret's delivery pages, the secret page included.
      const rotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId } });
      const approved = await t.inject({ method: 'POST', url: `/api/rotations/${rotation.id}/approve`, headers: two.headers });
      expect(approved.statusCode, approved.body).toBe(200);
      await page.goto(`/delivery?lang=${lang}`);
      await check(page, 'delivery-start', lang, w.start);
      const link = /(\/delivery#[A-Za-z0-9_-]{43})/.exec(
        (await outbox()).filter((m) => m.to === contact.email && m.text.includes('/delivery#')).at(-1)!.text,
      )![1];
      await page.goto(link);
      await page.getByRole('button', { name: w.sendCode }).waitFor();
      await check(page, 'delivery-details', lang, w.sendCode);
      await page.getByRole('button', { name: w.sendCode }).click();
      await page.getByLabel(w.code).waitFor();
      await check(page, 'delivery-code-sent', lang, w.show);
      const sms = (await outbox()).filter((m) => m.channel === 'sms' && m.to === `+3161111${n}000`).at(-1)!;
      await page.getByLabel(w.code).fill(/\b(\d{8})\b/.exec(sms.text)![1]);
      await page.getByRole('button', { name: w.show }).click();
      await page.getByTestId('client-secret').waitFor();
      await check(page, 'delivery-secret', lang, w.next);
      await page.locator('details.env-file > summary').click();
      const summaryBox = await page.locator('details.env-file > summary').boundingBox();
      expect(summaryBox!.height).toBeGreaterThanOrEqual(44);
      await page.setViewportSize({ width: 375, height: 740 });
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      expect(problems).toEqual([]);
      await context.close();
      void one;
    },
    300_000,
  );
});
