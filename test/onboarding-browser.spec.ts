import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { reportBrowserSkip, screenshotter, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';

const skip = reportBrowserSkip('onboarding');
let t: TestApp;
let b: BrowserApp;
let base: string;

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp();
  ({ t, base } = b);
});
afterAll(async () => {
  await b?.close();
});

describe.skipIf(skip)('onboarding in a real browser', { timeout: 120_000 }, () => {
  it('a partner applies (errors, check answers, confirmation, status page) and a second reviewer approves in the console', async () => {
    const shots = screenshotter('onboarding');
    const partner = await b.context({ bypassCSP: false });
    const page = await partner.newPage();
    const problems = watchPage(page);

    await page.goto(`${base}/apply`);
    await shots.shot(page, 'apply-form');
    await page.getByLabel('Legal name of the organisation').fill('Browser Bakery B.V.');
    await page.getByLabel('Chamber of commerce (KvK) or registration number').fill('99887766');
    await page.getByLabel('Full name').fill('Bram Bakker');
    await page.getByLabel('Email address').fill('bram@bakery');
    await page.getByLabel('Mobile phone number').fill('+31 85 123 4567');
    await page.getByLabel('English').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    // A locator is always defined: wait for the summary itself, so the next line reads the error page, not the form.
    await page.locator('.error-summary').waitFor();
    expect(await page.locator('.error-summary').isVisible()).toBe(true);
    expect(await page.locator('.error-summary a').allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/email address/i),
        expect.stringMatching(/VoIP/),
        expect.stringMatching(/API/),
        expect.stringMatching(/use the APIs/),
      ]),
    );
    await shots.shot(page, 'apply-errors');
    await page.locator('.error-summary a[href="#contactMobile"]').click();
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('contactMobile');

    await page.getByLabel('Email address').fill('bram@bakery.example');
    await page.getByLabel('Mobile phone number').fill('+31 6 2345 6789');
    await page.locator('#item-business-acceptance').check();
    await page.locator('#item-business-production').check();
    await page.getByLabel('What will you use the APIs for?').fill('Our bakery app shows lunch offers and takes orders from employees.');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /Check your answers/ }).waitFor();
    await shots.shot(page, 'apply-check-answers');
    t.clock.advance(10_000);
    await page.getByRole('button', { name: 'Send application' }).click();
    await page.getByRole('heading', { name: 'Application sent' }).waitFor();
    await shots.shot(page, 'apply-confirmation');
    const reference = (await page.getByTestId('reference').textContent())!.trim();
    expect(reference).toMatch(/^OB-/);
    const statusPath = new URL((await page.getByTestId('status-link').getAttribute('href'))!).pathname;

    const staff = await createStaffWithSession(t, { role: 'reviewer', name: 'Browser Reviewer' });
    const console = await b.staffContext(staff, { bypassCSP: false });
    const cpage = await console.newPage();
    problems.push(...watchPage(cpage));
    await cpage.goto(`${base}/console/requests?q=${reference}`);
    await shots.shot(cpage, 'console-queue');
    await cpage.getByRole('link', { name: reference }).click();
    await cpage.getByRole('button', { name: 'Start review' }).click();
    await cpage.getByText('Review started.').waitFor();
    await shots.shot(cpage, 'console-request-in-review');
    await cpage.getByRole('button', { name: /Approve Acceptance/ }).click();
    await cpage.getByText('Acceptance approved.').waitFor();
    await cpage.getByRole('button', { name: /Approve Production/ }).click();
    // Production access is confirmed on its own page, which states what it lets the partner do.
    await cpage.getByRole('heading', { name: /Approve Production access for Browser Bakery/ }).waitFor();
    await shots.shot(cpage, 'console-approve-production-confirm');
    await cpage.getByRole('button', { name: 'Yes, approve Production' }).click();
    await cpage.getByText('Production approved.').waitFor();
    await shots.shot(cpage, 'console-request-approved');
    // Production access takes two different staff: its approver sees why they cannot issue it.
    expect(await cpage.getByRole('button', { name: 'Issue acceptance credentials' }).isDisabled()).toBe(false);
    expect(await cpage.getByRole('button', { name: 'Issue production credentials' }).isDisabled()).toBe(true);
    expect(await cpage.locator('#issue-production-why').textContent()).toMatch(/You approved Production: another reviewer must issue/);

    await page.goto(`${base}${statusPath}`);
    await page.locator('[data-state="approved"]').first().waitFor();
    expect(await page.getByTestId('organisation').textContent()).toBe('Browser Bakery B.V.');
    await shots.shot(page, 'status-approved');
    // The form with errors is answered 400 on purpose; Chromium logs that status. Nothing else may appear.
    expect(problems.filter((p) => !/\/apply: Failed to load resource: the server responded with a status of 400/.test(p))).toEqual([]);
  }, 60_000);
});
