import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../src/common/request-context.js';
import { DeliveryService } from '../src/delivery/delivery.service.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { TestApp } from './support/app.js';
import { checkPage, reportBrowserSkip } from './support/browser.js';
import { startBrowserApp, type BrowserApp } from './support/browser-session.js';
import { deliveryInput, linkTokenFrom, useTestSecrets } from './support/delivery-harness.js';
import { FakeTwilio } from './support/fake-twilio.js';

const skip = reportBrowserSkip('sim-swap');
let t: TestApp;
let twilio: FakeTwilio;
let b: BrowserApp;

beforeAll(async () => {
  if (skip) return;
  twilio = await FakeTwilio.start();
  // Mail is captured by the dev outbox; Lookup answers from the fake Twilio.
  b = await startBrowserApp({ env: { DEV_OUTBOX: 'true', ...twilio.env() } });
  ({ t } = b);
  useTestSecrets(t.app.get(DeliveryService), 'browser-sim-swap');
});
afterAll(async () => {
  await b?.close();
  await twilio?.stop();
});

describe.skipIf(skip)('a held SMS code in a real browser', { timeout: 120_000 }, () => {
  it('tells the partner no code was sent and whom to contact, and the page passes the accessibility check', async () => {
    const input = deliveryInput('browser-sim-swap');
    twilio.numbers.set(input.recipient.mobile, { swappedAt: new Date(Date.now() - 86_400_000) });
    await t.prisma.transaction((tx) => t.app.get(DeliveryService).create(tx, systemContext(), input));
    await t.app.get(NotificationsService).drain();
    const outbox = (await t.inject({ method: 'GET', url: '/dev/outbox.json' })).json().messages as Array<{ to: string; text: string }>;
    const token = linkTokenFrom(outbox.find((m) => m.to === input.recipient.email)!.text);

    const context = await b.context();
    const page = await context.newPage();
    await page.goto(`/delivery#${token}`);
    await page.getByRole('button', { name: 'Send me the code' }).click();
    await page.getByRole('heading', { name: 'No code can be sent right now' }).waitFor();
    await expect(page.content()).resolves.toContain('the SIM card of this mobile number was changed recently');
    const check = await checkPage(page, 'delivery-sim-swap-held');
    expect(check.violations).toEqual([]);
    expect(check.widthAt375).toBeLessThanOrEqual(375);
    await context.close();
  });
});
