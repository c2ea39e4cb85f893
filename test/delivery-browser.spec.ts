import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../src/common/request-context.js';
import { DeliveryService } from '../src/delivery/delivery.service.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { TestApp } from './support/app.js';
import { reportBrowserSkip, screenshotter, watchPage } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { deliveryInput, useTestSecrets } from './support/delivery-harness.js';

const skip = reportBrowserSkip('delivery');
let t: TestApp;
let b: BrowserApp;
let base: string;
const revealedSecrets: string[] = [];

beforeAll(async () => {
  if (skip) return;
  b = await startBrowserApp({ env: { DEV_OUTBOX: 'true' } });
  ({ t, base } = b);
  useTestSecrets(t.app.get(DeliveryService), 'browser-test');
  t.app.get(DeliveryService).registerRevealHandler('browser-test', async (_tx, _ctx, r) => void revealedSecrets.push(r.secret));
});
afterAll(async () => {
  await b?.close();
});

describe.skipIf(skip)('delivery in a real browser (dev outbox)', { timeout: 120_000 }, () => {
  it('opens the link from the captured email, asks for the code, enters it from the captured SMS, copies the secret once', async () => {
    const notifications = t.app.get(NotificationsService);
    const input = deliveryInput('browser-test');
    await t.prisma.transaction((tx) => t.app.get(DeliveryService).create(tx, systemContext(), input));
    await notifications.drain();

    const context = await b.context({ bypassCSP: false, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    const problems = watchPage(page);
    const shots = screenshotter('delivery');
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));

    await page.goto('/dev/outbox');
    await shots.shot(page, 'outbox-with-email');
    const link = page.locator('a[href*="/delivery#"]').first();
    const href = (await link.getAttribute('href'))!;
    const token = href.split('#')[1];
    await link.click();

    // The script moved the token from the fragment into the form and posted it: the details page.
    await page.getByRole('button', { name: 'Send me the code' }).waitFor();
    expect(page.url()).toBe(`${base}/delivery/open`);
    await expect(page.content()).resolves.toContain('Acme Logistics BV');
    await shots.shot(page, 'details-before-code');

    await page.getByRole('button', { name: 'Send me the code' }).click();
    await page.getByLabel(/The 8-digit code/).waitFor();
    await notifications.drain();
    const outbox = (await (await fetch(`${base}/dev/outbox.json`)).json()) as { messages: Array<{ channel: string; to: string; text: string }> };
    const sms = outbox.messages.find((m) => m.channel === 'sms' && m.to === input.recipient.mobile)!;
    const code = /\b(\d{8})\b/.exec(sms.text)![1];
    await shots.shot(page, 'code-sent');

    await page.getByLabel(/The 8-digit code/).fill(code);
    await page.getByRole('button', { name: 'Show the secret' }).click();
    await page.getByTestId('client-secret').waitFor();
    expect(await page.getByTestId('client-secret').textContent()).toBe(input.secret);
    await page.locator('button[data-copy="client-secret"]').click();
    expect(
      await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()),
    ).toBe(input.secret);
    expect(await page.locator('#download-env').isVisible()).toBe(true);
    const download = page.waitForEvent('download');
    await page.locator('#download-env').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('business-api-acceptance.env');
    await shots.shot(page, 'secret-shown-once');
    expect(revealedSecrets).toEqual([input.secret]);

    // Reload (re-post) and re-open: never the secret again.
    await page.goto(`/delivery#${token}`);
    await page.getByRole('heading', { name: 'Already retrieved' }).waitFor();
    expect(await page.content()).not.toContain(input.secret);
    await shots.shot(page, 'already-retrieved');

    // The token never travelled in a URL the server saw.
    expect(requests.filter((u) => u.includes(token) && !u.includes('#'))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
