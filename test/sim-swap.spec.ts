import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG } from '../src/config/config.module.js';
import type { AppConfig } from '../src/config/config.js';
import { SmsChecks } from '../src/delivery/sms-checks.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { DeliveryDriver, deliveryInput } from './support/delivery-harness.js';

const SUBJECT = 'sim-swap-secret';
const STAFF = 'alerts@retailer.example';
const DAY = 86_400_000;
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let config: AppConfig;
let reviewer: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: STAFF, ...twilio.env(), TWILIO_LOOKUP_TIMEOUT_MS: '1000' } });
  drv = new DeliveryDriver(t, smtp, twilio);
  drv.deliveries.registerRevealHandler(SUBJECT, async () => {});
  config = t.app.get<AppConfig>(APP_CONFIG);
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
async function newDelivery() {
  return drv.create(deliveryInput(SUBJECT));
}
/** Asks for a code and drains the SMS queue; what the fake Twilio received for the number afterwards. */
async function askAndDrain(token: string, mobile: string) {
  const res = await askCode(token);
  await drv.notifications.drain();
  return { res, sms: twilio.to(mobile) };
}

describe('before each SMS code', () => {
  it('a mobile line without a recent SIM change gets its code', async () => {
    const d = await newDelivery();
    const before = twilio.lookups.length;
    const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
    expect(res.statusCode, res.body).toBe(200);
    expect(sms).toHaveLength(1);
    // One at the request, one fresh one right before the send.
    const asked = { number: d.input.recipient.mobile, fields: 'line_type_intelligence,sim_swap' };
    expect(twilio.lookups.slice(before)).toEqual([asked, asked]);
  });

  it('a SIM swapped yesterday: no SMS, the delivery stays pending and unlocked, staff alerted; usable again once staff clear it', async () => {
    const d = await newDelivery();
    const mobile = d.input.recipient.mobile;
    twilio.numbers.set(mobile, { swappedAt: new Date(Date.now() - DAY) });
    const { res, sms } = await askAndDrain(d.token, mobile);
    expect(res.statusCode).toBe(423);
    expect(res.json()).toMatchObject({ code: 'delivery/sim_swap_held', message: expect.stringContaining('Contact your Business Journeys contact') });
    expect(sms).toHaveLength(0);
    expect(await row(d.deliveryId)).toMatchObject({ state: 'pending', codesSent: 0, hotpCounter: 0, codeExpiresAt: null });

    const audit = await t.prisma.auditEvent.findFirst({ where: { action: 'delivery.sim_swap_blocked', subjectId: d.input.subjectId } });
    expect(audit?.detail).toMatchObject({ deliveryId: d.deliveryId, reason: expect.stringContaining('SIM card was changed on') });
    expect(JSON.stringify(audit?.detail)).not.toContain(mobile);
    await drv.notifications.drain();
    expect(smtp.to(STAFF).some((m) => m.subject.includes('SMS code held after a SIM change') && m.text.includes(d.deliveryId))).toBe(true);

    // Held: asking again sends nothing and asks Lookup nothing; the partner's page and the staff lists say so.
    const lookups = twilio.lookups.length;
    expect((await askAndDrain(d.token, mobile)).res.json()).toMatchObject({ code: 'delivery/sim_swap_held' });
    expect(twilio.lookups.length).toBe(lookups);
    const overview = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
    expect(overview.json()).toMatchObject({ state: 'pending', smsHeld: true });
    const page = await t.inject({ method: 'POST', url: '/delivery/open', headers: { accept: 'text/html' }, payload: { token: d.token } });
    expect(page.body).toContain('No code can be sent right now');
    expect(page.body).not.toContain('Send me the code');
    expect((await t.app.get(SmsChecks).blockedSimSwapDeliveries()).map((b) => b.deliveryId)).toContain(d.deliveryId);
    const holds = await t.inject({ method: 'GET', url: '/api/deliveries/sim-swap-holds', headers: reviewer.headers });
    expect(holds.json().holds).toContainEqual(expect.objectContaining({ deliveryId: d.deliveryId, partnerName: 'Acme Logistics BV' }));

    const cleared = await t.inject({
      method: 'POST',
      url: `/api/deliveries/${d.deliveryId}/sim-swap-clear`,
      headers: reviewer.headers,
      payload: { reason: 'Called the contact on the number in our CRM; the SIM change was theirs' },
    });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().holds.map((h: { deliveryId: string }) => h.deliveryId)).not.toContain(d.deliveryId);
    const clearAudit = await t.prisma.auditEvent.findFirst({ where: { action: 'delivery.sim_swap_cleared', subjectId: d.input.subjectId } });
    expect(clearAudit).toMatchObject({
      actorType: 'staff',
      actorId: reviewer.staffId,
      detail: { deliveryId: d.deliveryId, reason: 'Called the contact on the number in our CRM; the SIM change was theirs' },
    });
    expect(
      (
        await t.inject({
          method: 'POST',
          url: `/api/deliveries/${d.deliveryId}/sim-swap-clear`,
          headers: reviewer.headers,
          payload: { reason: 'once more please' },
        })
      ).json(),
    ).toMatchObject({ code: 'delivery/not_held' });

    const again = await askAndDrain(d.token, mobile);
    expect(again.res.statusCode, again.res.body).toBe(200);
    expect(again.sms).toHaveLength(1);
    const code = /\b(\d{8})\b/.exec(again.sms[0].body)![1];
    const revealed = await drv.reveal(d.token, code);
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.json().clientSecret).toBe(d.input.secret);
  });

  it('a carrier that only says "swapped within its period" holds the code too', async () => {
    const d = await newDelivery();
    twilio.numbers.set(d.input.recipient.mobile, { swappedAt: new Date(Date.now() - 2 * DAY), hideSwapDate: true });
    const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
    expect(res.json()).toMatchObject({ code: 'delivery/sim_swap_held' });
    expect(sms).toHaveLength(0);
  });

  it('a SIM swapped 30 days ago does not hold the code', async () => {
    const d = await newDelivery();
    twilio.numbers.set(d.input.recipient.mobile, { swappedAt: new Date(Date.now() - 30 * DAY) });
    const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
    expect(res.statusCode, res.body).toBe(200);
    expect(sms).toHaveLength(1);
  });

  it('a landline on file gets no code', async () => {
    const d = await newDelivery();
    twilio.numbers.set(d.input.recipient.mobile, { lineType: 'landline' });
    const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
    expect(res.json()).toMatchObject({ code: 'delivery/number_not_mobile' });
    expect(sms).toHaveLength(0);
    expect(await row(d.deliveryId)).toMatchObject({ state: 'pending', codesSent: 0 });
  });
});

describe('when Lookup gives no usable answer', () => {
  for (const [name, behaviour] of [
    ['a 500', { kind: 'error', status: 500 }],
    ['a time-out', { kind: 'hang' }],
    ['a malformed answer', { kind: 'malformed' }],
  ] as const) {
    it(`${name}: no code (fail safe), nothing counted; with TWILIO_LOOKUP_FAIL_OPEN the code is sent`, async () => {
      twilio.lookupBehaviour = behaviour;
      try {
        const d = await newDelivery();
        const started = Date.now();
        const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ code: 'delivery/number_check_unavailable' });
        expect(sms).toHaveLength(0);
        expect(await row(d.deliveryId)).toMatchObject({ state: 'pending', codesSent: 0 });
        expect(await t.prisma.deliverySimSwapBlock.count({ where: { deliveryId: d.deliveryId } })).toBe(0);

        config.lookup.failOpen = true;
        const open = await askAndDrain(d.token, d.input.recipient.mobile);
        expect(open.res.statusCode, open.res.body).toBe(200);
        expect(open.sms).toHaveLength(1);
      } finally {
        config.lookup.failOpen = false;
        twilio.lookupBehaviour = { kind: 'answer' };
      }
    });
  }
});

describe('Lookup turned off', () => {
  it('asks Lookup nothing and sends the code', async () => {
    config.lookup.enabled = false;
    try {
      const d = await newDelivery();
      twilio.numbers.set(d.input.recipient.mobile, { swappedAt: new Date(Date.now() - DAY) });
      const before = twilio.lookups.length;
      const { res, sms } = await askAndDrain(d.token, d.input.recipient.mobile);
      expect(res.statusCode, res.body).toBe(200);
      expect(sms).toHaveLength(1);
      expect(twilio.lookups.length).toBe(before);
    } finally {
      config.lookup.enabled = true;
    }
  });
});
