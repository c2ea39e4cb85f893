import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { createStaffWithSession } from './support/factories.js';
import { issueCredential } from './support/credentials.helpers.js';

const skip = reportBrowserSkip('secret-scanning');
let t: TestApp;
let b: BrowserApp;

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp();
  ({ t } = b);
});
afterAll(async () => {
  await b?.close();
});

async function passes(page: Page, name: string): Promise<void> {
  const check = await checkPage(page, name);
  expect(check.violations, name).toEqual([]);
  expect(check.widthAt375, name).toBeLessThanOrEqual(375);
}

describe.skipIf(skip)('leak report pages in a real browser', { timeout: 120_000 }, () => {
  it('the public form, its error and its answer; the staff list, form and outcome', async () => {
    const cred = await issueCredential(t);
    const context = await b.context();
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto('/report-leak');
    await passes(page, 'leak-report-form');
    await page.getByLabel('The secret').fill('not a secret');
    await page.getByRole('button', { name: 'Report the secret' }).click();
    await page.getByText('There is a problem').waitFor();
    await passes(page, 'leak-report-error');
    await page.getByLabel('The secret').fill(cred.secret);
    await page
      .getByLabel('Where you saw it (optional)')
      .fill(`https://github.com/acme/a-very-long-repository-name/blob/${'f'.repeat(40)}/config/production.yml`);
    await page.getByRole('button', { name: 'Report the secret' }).click();
    await page.getByRole('heading', { name: 'Report received' }).waitFor();
    await passes(page, 'leak-report-received');
    expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: cred.secretId } })).state).toBe('revoked');

    const staff = await createStaffWithSession(t, { role: 'reviewer', name: 'Leak Reviewer' });
    const console = await b.staffContext(staff);
    const cpage = await console.newPage();
    problems.push(...watchPage(cpage));
    await cpage.goto('/console/leaks');
    await cpage.getByRole('heading', { name: 'Leaked secrets' }).waitFor();
    expect(await cpage.content()).toContain(cred.clientId);
    await passes(cpage, 'console-leaks-list');
    await cpage.getByRole('button', { name: 'Report a leaked secret' }).click();
    await cpage.getByRole('heading', { name: 'Report a leaked secret' }).waitFor();
    await passes(cpage, 'console-leak-report-form');
    await cpage.getByLabel('The secret').fill(`cbsk_prd_${randomBytes(32).toString('base64url')}`);
    await cpage.getByRole('button', { name: 'Revoke if it is ours' }).click();
    await cpage.getByText('not one of our secrets').waitFor();
    await passes(cpage, 'console-leak-report-outcome');
    expect(problems).toEqual([]);
  });
});
