import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TokenFailureLog } from '../src/oauth/token-failure-log.js';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { createStaffWithSession } from './support/factories.js';
import { basic, form, FORM_HEADERS, issueCredential } from './support/credentials.helpers.js';

const skip = reportBrowserSkip('token-explain');
let t: TestApp;
let b: BrowserApp;

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp({ env: { OAUTH_FAILURE_FLUSH_MS: '600000' } });
  ({ t } = b);
});
afterAll(async () => {
  await b?.close();
});

async function accessible(page: Page, name: string): Promise<void> {
  const check = await checkPage(page, name);
  expect(check.violations, name).toEqual([]);
  expect(check.widthAt375, name).toBeLessThanOrEqual(375);
}

describe.skipIf(skip)('token explainer and failure lookup in a real browser', { timeout: 120_000 }, () => {
  it('every page state is accessible and reflows at 375 px', async () => {
    const c = await issueCredential(t);
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
      payload: form({ grant_type: 'client_credentials' }),
    });
    const token = res.json().access_token as string;

    const context = await b.context();
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto('/');
    await page.getByRole('link', { name: /Find out why your token was refused/ }).click();
    await page.getByRole('heading', { name: 'Why was my token refused?' }).waitFor();
    await accessible(page, 'token-explain-form');

    await page.getByRole('button', { name: 'Explain this token' }).click();
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    await accessible(page, 'token-explain-empty');

    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Explain this token' }).click();
    await page.getByRole('heading', { name: 'This token is fine' }).waitFor();
    expect(await page.getByTestId('reason').textContent()).toBe('valid');
    await accessible(page, 'token-explain-valid');

    await page.getByLabel('Access token').fill(token);
    await page.getByLabel('Environment you called (optional)').selectOption('production');
    await page.getByRole('button', { name: 'Explain this token' }).click();
    await page.getByRole('heading', { name: 'This token is refused' }).waitFor();
    expect(await page.getByTestId('reason').textContent()).toBe('other_environment');
    await accessible(page, 'token-explain-other-environment');

    const correlationId = `browser-failure-${Date.now()}`;
    await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, 'wrong'), 'x-correlation-id': correlationId },
      payload: form({ grant_type: 'client_credentials' }),
    });
    await t.app.get(TokenFailureLog).flush();
    const staff = await createStaffWithSession(t, { role: 'viewer' });
    await b.signIn(context, staff);
    await page.goto('/console/credentials');
    await page.getByRole('link', { name: 'Find the failed token request' }).click();
    await page.getByRole('heading', { name: 'Failed token requests' }).waitFor();
    expect(await page.getByLabel('Correlation id').inputValue()).toBe('');
    await accessible(page, 'token-failures-empty');
    await page.getByLabel('Correlation id').fill(correlationId);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByTestId('token-failure').first().waitFor();
    expect(await page.getByTestId('token-failure').first().textContent()).toContain('wrong_secret');
    await accessible(page, 'token-failures-found');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('every Dutch page state is accessible, reflows at 375 px and says nothing in English', async () => {
    const c = await issueCredential(t);
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
      payload: form({ grant_type: 'client_credentials' }),
    });
    const token = res.json().access_token as string;
    const context = await b.context({ locale: 'nl-NL' });
    const page = await context.newPage();
    const problems = watchPage(page);
    const dutch = async (name: string) => {
      expect(await page.locator('html').getAttribute('lang'), name).toBe('nl');
      const text = await page.locator('body').innerText();
      for (const english of ['Why was my token', 'Skip to main content', 'Correlation id', 'What to do', 'Not sure']) expect(text, name).not.toContain(english);
      await accessible(page, name);
    };
    await page.goto('/token-explain');
    await page.getByRole('heading', { name: 'Waarom is mijn token geweigerd?' }).waitFor();
    await dutch('token-explain-nl-form');

    await page.getByRole('button', { name: 'Leg dit token uit' }).click();
    await page.getByRole('heading', { name: 'Er is een probleem' }).waitFor();
    await dutch('token-explain-nl-empty');

    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Leg dit token uit' }).click();
    await page.getByRole('heading', { name: 'Dit token is in orde' }).waitFor();
    await dutch('token-explain-nl-valid');

    await page.getByLabel('Access token').fill(token);
    await page.getByLabel('Omgeving die u aanriep (optioneel)').selectOption('production');
    await page.getByRole('button', { name: 'Leg dit token uit' }).click();
    await page.getByRole('heading', { name: 'Dit token wordt geweigerd' }).waitFor();
    expect(await page.getByTestId('reason').textContent()).toBe('other_environment');
    await dutch('token-explain-nl-other-environment');

    await page.getByLabel('Access token').fill(c.secret);
    await page.getByRole('button', { name: 'Leg dit token uit' }).click();
    await page.getByRole('heading', { name: 'Dit token wordt geweigerd' }).waitFor();
    expect(await page.getByTestId('reason').textContent()).toBe('client_secret');
    await dutch('token-explain-nl-client-secret');

    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Why was my token refused?' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
