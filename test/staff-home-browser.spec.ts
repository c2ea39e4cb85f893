import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { TokenCountsFlusher, tokenCounts } from '../src/oauth/token-counts.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { issueCredential } from './support/credentials.helpers.js';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { createStaffWithSession } from './support/factories.js';

const skip = reportBrowserSkip('staff-home');
let t: TestApp;
let b: BrowserApp;
let base: string;

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp({ env: { SECRET_LIFETIME_DAYS: '20' } });
  ({ t, base } = b);
});
afterAll(async () => {
  await b?.close();
});

/**
 * Right edge of the page's own content at 375 px: the main element and everything in it, except what sits
 * inside a scrolling box (a wide data table scrolls on its own, which WCAG 1.4.10 allows).
 */
async function mainWidthAt375(page: Page): Promise<number> {
  const original = page.viewportSize()!;
  await page.setViewportSize({ width: 375, height: 740 });
  const width = (await page.evaluate(`(() => {
    const m = document.querySelector('#main');
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== m; p = p.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
      return false;
    };
    let w = m.getBoundingClientRect().right;
    for (const el of m.querySelectorAll('*')) if (!scrolls(el)) w = Math.max(w, el.getBoundingClientRect().right);
    return Math.ceil(w);
  })()`)) as number;
  await page.setViewportSize(original);
  return width;
}

describe.skipIf(skip)('staff home and overview in a real browser', { timeout: 120_000 }, () => {
  it('the home lists waiting items with their age; the overview draws charts with tables; both pass axe and reflow at 375 px', async () => {
    // Something in every kind of chart and in several home sections.
    const submitted = await t.app.get(OnboardingService).submit(
      { correlationId: randomUUID(), clientIp: null, userAgent: null, actor: { type: 'partner_contact', id: null } },
      {
        partner: { legalName: 'Een Heel Lange Organisatienaam Zonder Spaties Of Afbrekingen B.V.', registrationNumber: '12345678', country: 'NL' },
        contact: { name: 'Pim Partner', email: 'pim@partner.example', mobile: '+31612300000' },
        language: 'en',
        purpose: 'Our till software reads the business customer record at checkout.',
        items: [{ api: 'business', environment: 'acceptance' }],
      },
    );
    await issueCredential(t);
    for (let i = 0; i < 1234; i++) tokenCounts.add('business', 'acceptance', Math.floor(t.clock.now().getTime() / 1000));
    await t.app.get(TokenCountsFlusher).flush();

    const staff = await createStaffWithSession(t, { role: 'reviewer', name: 'Browser Reviewer' });
    const context = await b.staffContext(staff);
    const page = await context.newPage();
    const problems = watchPage(page);

    await page.goto(`${base}/console`);
    await page.getByRole('heading', { name: 'Needs your action' }).waitFor();
    expect(page.url()).toBe(`${base}/console/home`);
    const item = page.locator(`li[data-item="request:${submitted.id}:submitted"]`);
    expect(await item.locator('a').getAttribute('href')).toBe(`/console/requests/${submitted.id}`);
    expect(await item.locator('.home-age').textContent()).toMatch(/waiting (less than a minute|\d+ minutes?)/);
    const home = await checkPage(page, 'staff-home');
    expect(home.violations).toEqual([]);
    expect(home.widthAt375).toBeLessThanOrEqual(375);
    const homeMain = await mainWidthAt375(page);
    expect(homeMain).toBeLessThanOrEqual(375);

    await page.getByRole('link', { name: 'Overview and charts' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await page.locator('figure[data-chart] svg.chart').count()).toBeGreaterThanOrEqual(3);
    const tokens = page.locator('figure[data-chart="tokens-per-day"]');
    expect(await tokens.locator('svg.chart').getAttribute('aria-labelledby')).toBe('chart-tokens-per-day');
    expect(await tokens.locator('.chart-legend li').allTextContents()).toEqual([expect.stringContaining('business acceptance')]);
    await tokens.locator('summary').click();
    expect(await tokens.locator('table').textContent()).toContain('1234');
    const overview = await checkPage(page, 'staff-overview');
    expect(overview.violations).toEqual([]);
    expect(overview.widthAt375).toBeLessThanOrEqual(375);
    const overviewMain = await mainWidthAt375(page);
    expect(overviewMain).toBeLessThanOrEqual(375);
    console.log(`staff-home width at 375: page ${home.widthAt375}, main ${homeMain}; overview: page ${overview.widthAt375}, main ${overviewMain}`);
    expect(problems).toEqual([]);
  });
});
