import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { DeliveryDriver, deliveryInput } from './support/delivery-harness.js';

/**
 * The SIM change checked again right before the code goes to the provider: a swap in the seconds between the
 * partner's request and the SMS job is caught the same way as one found at the request.
 */
const SUBJECT = 'sim-swap-send-secret';
const STAFF = 'alerts@retailer.example';
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let reviewer: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: STAFF, ...twilio.env(), TWILIO_LOOKUP_TIMEOUT_MS: '1000' } });
  drv = new DeliveryDriver(t, smtp, twilio);
  drv.deliveries.registerRevealHandler(SUBJECT, async () => {});
  reviewer = await createStaffWithSession(t, { role: 'reviewer' });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

let ipSeq = 1;
const askCode = (token: string) => t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: `198.51.100.${ipSeq++}` });
const row = (id: string) => t.prisma.delivery.findUniqueOrThrow({ where: { id } });
const codeSms = (deliveryId: string) =>
  t.prisma.notification.findMany({ where: { template: 'delivery-code', idempotencyKey: { startsWith: `delivery:${deliveryId}:` } } });

describe('the SIM change checked again at send time', () => {
  it('a swap between the request and the send: no SMS, the code withdrawn, the delivery held, staff alerted, the page says so', async () => {
    const d = await drv.create(deliveryInput(SUBJECT));
    const mobile = d.input.recipient.mobile;
    const lookups = twilio.lookups.length;
    const res = await askCode(d.token);
    expect(res.statusCode, res.body).toBe(200);
    // The SIM is swapped now, after the request's check and before the job runs.
    twilio.numbers.set(mobile, { swappedAt: new Date(Date.now() - 60_000) });
    await drv.notifications.drain();
    expect(twilio.to(mobile)).toHaveLength(0);
    // One Lookup at the request, one fresh one at the send (not the cached answer).
    expect(twilio.lookups.length - lookups).toBe(2);
    const [sms] = await codeSms(d.deliveryId);
    expect(sms).toMatchObject({ status: 'failed', providerReason: expect.stringContaining('SIM card of the number changed') });
    expect(sms.payloadEnc).toBeNull();
    expect(await row(d.deliveryId)).toMatchObject({ state: 'pending', codesSent: 0, codeExpiresAt: null, codeSentAt: null });

    const audit = await t.prisma.auditEvent.findFirst({ where: { action: 'delivery.sim_swap_blocked', subjectId: d.input.subjectId } });
    expect(audit?.detail).toMatchObject({ deliveryId: d.deliveryId, reason: expect.stringContaining('SIM card was changed on') });
    await drv.notifications.drain();
    expect(smtp.to(STAFF).some((m) => m.subject.includes('SMS code held after a SIM change') && m.text.includes(d.deliveryId))).toBe(true);
    const overview = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
    expect(overview.json()).toMatchObject({ state: 'pending', smsHeld: true });
    expect((await askCode(d.token)).json()).toMatchObject({ code: 'delivery/sim_swap_held' });

    // Staff verify the person and clear the hold: the next code is sent.
    const cleared = await t.inject({
      method: 'POST',
      url: `/api/deliveries/${d.deliveryId}/sim-swap-clear`,
      headers: { ...reviewer.headers, 'content-type': 'application/json', accept: 'application/json' },
      payload: JSON.stringify({ reason: 'Called the contact on the number in our CRM' }),
    });
    expect(cleared.statusCode, cleared.body).toBeLessThan(300);
    expect((await askCode(d.token)).statusCode).toBe(200);
    await drv.notifications.drain();
    expect(twilio.to(mobile)).toHaveLength(1);
  });

  it('no swap: the code is sent after the second check', async () => {
    const d = await drv.create(deliveryInput(SUBJECT));
    expect((await askCode(d.token)).statusCode).toBe(200);
    await drv.notifications.drain();
    expect(twilio.to(d.input.recipient.mobile)).toHaveLength(1);
    expect((await codeSms(d.deliveryId))[0]).toMatchObject({ status: 'sent' });
  });

  it('Lookup gives no answer at send time: fail-closed, nothing sent, the job retries and sends once Lookup answers', async () => {
    const d = await drv.create(deliveryInput(SUBJECT));
    expect((await askCode(d.token)).statusCode).toBe(200);
    twilio.lookupBehaviour = { kind: 'error', status: 500 };
    try {
      await drv.notifications.drain();
      expect(twilio.to(d.input.recipient.mobile)).toHaveLength(0);
      expect((await codeSms(d.deliveryId))[0]).toMatchObject({
        status: 'queued',
        providerReason: expect.stringContaining('number check before sending failed'),
      });
    } finally {
      twilio.lookupBehaviour = { kind: 'answer' };
    }
    await drv.notifications.drain({ includeDelayed: true });
    expect(twilio.to(d.input.recipient.mobile)).toHaveLength(1);
  });
});
