import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../src/common/domain-error.js';
import { startTestApp, type TestApp } from './support/app.js';
import { DeliveryDriver, deliveryInput } from './support/delivery-harness.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

/**
 * The two ways a partner step refuses, by their effect on the database: a wrong code is counted and committed
 * (guessing costs tries), a failing internal step rolls back everything the reveal did (nothing consumed).
 */
const SUBJECT = 'reveal-effects-secret';
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let activationFails = false;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  drv = new DeliveryDriver(t, smtp, twilio);
  drv.deliveries.registerRevealHandler(SUBJECT, async () => {
    if (activationFails) throw new ConflictError('credential/cannot_activate', 'This secret cannot be activated.');
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const IP = '198.51.100.77';
const wrongOf = (code: string) => String((Number(code) + 1) % 100_000_000).padStart(8, '0');
const row = (id: string) => t.prisma.delivery.findUniqueOrThrow({ where: { id } });
const audits = (subjectId: string, action: string) => t.prisma.auditEvent.count({ where: { subjectId, action } });

describe('what a refusal leaves in the database', () => {
  it('a wrong code is counted and committed: the counters, the per-address count and the audit row stay', async () => {
    const d = await drv.create(deliveryInput(SUBJECT));
    const code = await drv.code(d.token, d.input.recipient.mobile, IP);
    for (let i = 1; i <= 2; i++) {
      const res = await drv.reveal(d.token, wrongOf(code), IP);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'delivery/wrong_code' });
      expect(await row(d.deliveryId)).toMatchObject({ state: 'pending', codeWrong: i, wrongTotal: i });
      expect(await audits(d.input.subjectId, 'delivery.code_rejected')).toBe(i);
    }
    const limit = await t.prisma.deliveryIpLimit.findUniqueOrThrow({ where: { deliveryId_ip: { deliveryId: d.deliveryId, ip: IP } } });
    expect(limit.wrongCodes).toBe(2);
    expect((await drv.reveal(d.token, code, IP)).statusCode).toBe(200);
  });

  it('a failing internal step (the owner cannot activate) rolls back the whole reveal: nothing consumed, no audit, no email', async () => {
    const d = await drv.create(deliveryInput(SUBJECT));
    const code = await drv.code(d.token, d.input.recipient.mobile, IP);
    const before = await row(d.deliveryId);
    const outbox = await t.prisma.notification.count({ where: { subjectId: d.input.subjectId } });
    activationFails = true;
    try {
      const res = await drv.reveal(d.token, code, IP);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'credential/cannot_activate' });
    } finally {
      activationFails = false;
    }
    const after = await row(d.deliveryId);
    expect(after).toMatchObject({ state: 'pending', revealedAt: null, codeWrong: 0, wrongTotal: 0 });
    expect(after.secretEnc).toBe(before.secretEnc);
    expect(after.codeExpiresAt).toEqual(before.codeExpiresAt);
    expect(await audits(d.input.subjectId, 'delivery.revealed')).toBe(0);
    expect(await t.prisma.notification.count({ where: { subjectId: d.input.subjectId } })).toBe(outbox);
    // The same code works once the owner can activate again: the failed attempt used nothing up.
    const res = await drv.reveal(d.token, code, IP);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain(d.input.secret);
  });
});
