import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { createPartner, issueCredential } from './support/credentials.helpers.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

const skip = reportBrowserSkip('console-notifications');
let t: TestApp;
let b: BrowserApp;
let base: string;
let reviewer: StaffLogin;
const results: Array<{ name: string; violations: string[]; widthAt375: number }> = [];

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp();
  ({ t, base } = b);
  reviewer = await createStaffWithSession(t, { role: 'reviewer', name: 'Rita Reviewer' });
});
afterAll(async () => {
  await b?.close();
});

async function staffPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await b.staffPage(reviewer, { viewport: { width: 1280, height: 800 } });
  return { page, problems: watchPage(page) };
}

async function check(page: Page, name: string, expectText: string): Promise<void> {
  expect(await page.content(), name).toContain(expectText);
  results.push({ name, ...(await checkPage(page, `console-${name}`)) });
}

async function failedMessage(status: 'failed' | 'unknown', template: string, reason: string): Promise<void> {
  await t.prisma.notification.create({
    data: {
      id: randomUUID(),
      idempotencyKey: `browser:${randomUUID()}`,
      channel: status === 'failed' ? 'email' : 'sms',
      template,
      language: 'en',
      recipientMasked: status === 'failed' ? 'b•••@p•••.example' : '+316•••••321',
      subjectType: 'onboarding_request',
      subjectId: randomUUID(),
      status,
      attempts: 3,
      providerReason: reason,
      createdAt: new Date(t.clock.now().getTime() - 3 * 3600_000),
      updatedAt: t.clock.now(),
    },
  });
}

describe.skipIf(skip)('messages page and the revoke-all confirmation in a real browser', () => {
  it('passes axe and fits 375 px: messages empty, with rows, filtered; revoke-all confirmation and its error', async () => {
    const { page, problems } = await staffPage();
    await page.goto(`${base}/console/notifications`);
    await check(page, 'notifications-empty', 'No message needs attention');

    await failedMessage('failed', 'onboarding-changes-requested', '550 5.1.1 <bounce@partner.example>: mailbox unavailable, a long reason without many spaces');
    await failedMessage('unknown', 'delivery-code', 'socket hang up after the request was sent');
    await page.goto(`${base}/console/home`);
    await page.locator('[data-section="notifications"] a').first().click();
    await page.locator('tr[data-notification-id]').first().waitFor();
    expect(page.url()).toMatch(/\/console\/notifications\?status=(failed|unknown)#notification-/);
    await page.goto(`${base}/console/notifications`);
    expect(await page.locator('tr[data-notification-id]').count()).toBe(2);
    await check(page, 'notifications', 'mailbox unavailable');
    await page.locator('#status').selectOption('unknown');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=unknown/);
    expect(await page.locator('tr[data-notification-id]').count()).toBe(1);
    await check(page, 'notifications-filtered', 'socket hang up');
    await page.locator('#channel').selectOption('email');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/channel=email/);
    await check(page, 'notifications-filtered-empty', 'No message matches these filters.');

    const partner = await createPartner(t);
    await issueCredential(t, { partner, environment: 'acceptance' });
    await issueCredential(t, { partner, environment: 'production' });
    await page.goto(`${base}/console/credentials?partnerId=${partner.partnerId}`);
    await page.getByTestId('revoke-all-start').click();
    await page.getByRole('heading', { name: /Revoke all 2 credentials of/ }).waitFor();
    await check(page, 'confirm-revoke-all', 'tokens already issued are refused immediately');
    await page.getByRole('button', { name: 'Yes, revoke all 2 credentials' }).click();
    await page.locator('.error-summary').waitFor();
    expect(await page.evaluate('document.activeElement && document.activeElement.classList.contains("error-summary")')).toBe(true);
    await check(page, 'confirm-revoke-all-errors', 'Say why you revoke');
    await page.locator('#reason').fill('Contract ended');
    await page.getByRole('button', { name: 'Yes, revoke all 2 credentials' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').textContent()).toContain('2 credentials of this partner revoked');

    console.log(results.map((r) => `${r.name}: ${r.violations.length} violations, ${r.widthAt375}px`).join('\n'));
    for (const r of results) {
      expect(r.violations, r.name).toEqual([]);
      expect(r.widthAt375, r.name).toBeLessThanOrEqual(375);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
