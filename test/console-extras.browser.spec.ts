import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { systemContext } from '../src/common/request-context.js';
import { CREDENTIAL_SECRET_SUBJECT } from '../src/credentials/credentials.service.js';
import { TokenFailureLog } from '../src/oauth/token-failure-log.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { basic, FORM_HEADERS, form, issueCredential } from './support/credentials.helpers.js';
import { DeliveryDriver, deliveryInput, linkTokenFrom } from './support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

/** Console pages of the leak response, the token-failure search and the SMS line checks, at 1280 and 375 px. */
const skip = reportBrowserSkip('console extras');
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let b: BrowserApp;
let base: string;
let reviewer: StaffLogin;
const results: Array<{ name: string; violations: string[]; widthAt375: number }> = [];
const problems: string[][] = [];

beforeAll(async () => {
  if (skip) return;
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  b = await startBrowserApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  ({ t, base } = b);
  reviewer = await createStaffWithSession(t, { role: 'reviewer', name: 'Rik Reviewer' });
}, 120_000);
afterAll(async () => {
  await b?.close();
  await smtp?.stop();
  await twilio?.stop();
});

async function staffPage(): Promise<Page> {
  const ctx = await b.staffContext(reviewer, { viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  problems.push(watchPage(page));
  return page;
}

async function visit(page: Page, path: string, name: string, expectText: string): Promise<void> {
  await page.goto(`${base}${path}`);
  expect(await page.content()).toContain(expectText);
  results.push({ name, ...(await checkPage(page, `console-extras-${name}`)) });
}

describe.skipIf(skip)('console pages without a browser test elsewhere', () => {
  it('leaks, the staff leak report (empty and with errors), token failures, the number allowance form and a SIM-swap hold', async () => {
    const page = await staffPage();

    // A leak reported by staff, so the list has a row.
    const leaked = await issueCredential(t);
    const reported = await t.inject({
      method: 'POST',
      url: '/console/leaks/report',
      headers: { ...reviewer.headers, ...FORM_HEADERS },
      payload: new URLSearchParams({ secret: leaked.secret, url: 'https://pastebin.example/a11y', source: 'paste site' }).toString(),
    });
    expect(reported.statusCode, reported.body).toBe(200);
    await visit(page, '/console/leaks', 'leaks', leaked.clientId);
    await visit(page, '/console/leaks/report', 'leak-report', 'Revoke if it is ours');
    await page.getByRole('button', { name: 'Revoke if it is ours' }).click();
    await page.waitForLoadState();
    expect(await page.content()).toContain('data-testid="error-summary"');
    results.push({ name: 'leak-report-errors', ...(await checkPage(page, 'console-extras-leak-report-errors')) });

    // A refused token request: the search finds it by client_id.
    const c = await issueCredential(t);
    const refused = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, 'not-the-secret') },
      payload: form({ grant_type: 'client_credentials' }),
    });
    expect(refused.statusCode).toBe(401);
    await t.app.get(TokenFailureLog).flush();
    await visit(page, `/console/token-failures?clientId=${encodeURIComponent(c.clientId)}`, 'token-failures', 'data-testid="token-failure"');

    // A request waiting for review: a reviewer may allow its contact's number for SMS codes.
    const request = await t.app.get(OnboardingService).submit(
      { correlationId: randomUUID(), clientIp: '203.0.113.9', userAgent: null, actor: { type: 'partner_contact', id: null } },
      {
        partner: { legalName: 'Lijntype Koffie B.V.', registrationNumber: `5${randomUUID().replace(/\D/g, '').slice(0, 7)}`, country: 'NL' },
        contact: { name: 'Lena Lijn', email: `lena-${randomUUID().slice(0, 6)}@koffie.example`, mobile: '+31612300088' },
        language: 'en',
        purpose: 'Our till software reads the business customer record at checkout.',
        items: [{ api: 'business', environment: 'acceptance' }],
      },
    );
    await visit(page, `/console/requests/${request.id}`, 'request-line-allowance', 'Allow this number for SMS codes');

    // A secret whose SMS code is held after a SIM change: its credential page offers to clear the hold.
    const pending = await issueCredential(t, { activate: false });
    const drv = new DeliveryDriver(t, smtp, twilio);
    const input = deliveryInput(CREDENTIAL_SECRET_SUBJECT, { subjectId: pending.secretId });
    input.display.clientId = pending.clientId;
    await t.prisma.transaction((tx) => drv.deliveries.create(tx, systemContext(), input));
    await drv.notifications.drain();
    const token = linkTokenFrom(smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'))!.text);
    twilio.numbers.set(input.recipient.mobile, { swappedAt: new Date(Date.now() - 86_400_000) });
    const asked = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: '198.51.100.91' });
    expect(asked.json()).toMatchObject({ code: 'delivery/sim_swap_held' });
    await visit(page, `/console/credentials/${pending.credentialId}`, 'credential-sim-swap-hold', 'Clear the hold');

    for (const r of results) {
      expect(r.violations, r.name).toEqual([]);
      expect(r.widthAt375, r.name).toBeLessThanOrEqual(375);
    }
    expect(problems.flat()).toEqual([]);
  }, 120_000);
});
