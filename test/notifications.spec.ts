import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { EmailMessage, SmsMessage } from '../src/notifications/notifications.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let notifications: NotificationsService;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Credentials <no-reply@credentials.example>',
      STAFF_ALERT_EMAIL: 'bj-alerts@retailer.example',
      ...twilio.env({ timeoutMs: 500 }),
    },
  });
  notifications = t.app.get(NotificationsService);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const email = (over: Partial<EmailMessage> = {}): EmailMessage => ({
  to: `contact-${randomUUID().slice(0, 8)}@partner.example`,
  template: 'delivery-revealed',
  language: 'en',
  data: {
    recipientName: 'Jane',
    partnerName: 'Acme BV',
    apiName: 'Business API',
    environment: 'acceptance',
    clientId: 'cl_123',
    revealedAt: '2026-11-27 08:00 UTC',
    ip: '203.0.113.9',
  },
  idempotencyKey: `test:${randomUUID()}`,
  subject: { type: 'test-subject', id: randomUUID() },
  ...over,
});

let phoneSeq = 10;
const sms = (over: Partial<SmsMessage> = {}): SmsMessage => ({
  to: `+316123456${phoneSeq++}`,
  template: 'delivery-code',
  language: 'en',
  data: { code: String(10_000_000 + Math.floor(Math.random() * 89_999_999)), apiName: 'Business API', environment: 'production' },
  idempotencyKey: `test:${randomUUID()}`,
  subject: { type: 'test-subject', id: randomUUID() },
  ...over,
});

const row = (key: string) => t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: key } });

describe('email', () => {
  it('is enqueued in the caller transaction and sent after commit, HTML and text, with a stable Message-ID', async () => {
    const m = email();
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    expect(smtp.to(m.to)).toHaveLength(0);
    expect(await notifications.drain()).toBeGreaterThan(0);
    const [mail] = smtp.to(m.to);
    expect(mail.subject).toBe('Your Business API (acceptance) secret was retrieved');
    expect(mail.text).toContain('203.0.113.9');
    expect(mail.html).toContain('<html lang="en">');
    expect(mail.from).toBe('no-reply@credentials.example');
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@credentials\.example>$/);
    const n = await row(m.idempotencyKey);
    expect(n).toMatchObject({
      status: 'sent',
      attempts: 1,
      recipientMasked: expect.stringMatching(/^c•••@partner\.example$/),
      title: mail.subject,
      payloadEnc: null,
    });
  });

  it('renders Dutch when asked', async () => {
    const m = email({ language: 'nl' });
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await notifications.drain();
    expect(smtp.to(m.to)[0].subject).toBe('Uw Business API (acceptance) secret is opgehaald');
  });

  it('sends once per idempotency key', async () => {
    const m = email();
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, { ...m, data: { ...m.data, ip: 'other' } }));
    await notifications.drain();
    expect(smtp.to(m.to)).toHaveLength(1);
  });

  it('never sends a message enqueued in a transaction that rolled back', async () => {
    const m = email();
    await expect(
      t.prisma.transaction(async (tx) => {
        await notifications.enqueueEmail(tx, m);
        throw new Error('the business change failed');
      }),
    ).rejects.toThrow('the business change failed');
    await notifications.drain({ includeDelayed: true });
    expect(smtp.to(m.to)).toHaveLength(0);
    expect(await t.prisma.notification.findUnique({ where: { idempotencyKey: m.idempotencyKey } })).toBeNull();
  });

  it('loses nothing while SMTP is down, and sends once when it is back', async () => {
    await smtp.stop();
    const m = email();
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await notifications.drain();
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', attempts: 1, providerReason: expect.stringMatching(/SMTP unavailable/) });
    await notifications.drain({ includeDelayed: true });
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', attempts: 2 });
    await smtp.start();
    await notifications.drain({ includeDelayed: true });
    expect(smtp.to(m.to)).toHaveLength(1);
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 3, providerReason: null });
  });

  it('retries a temporary SMTP refusal (4xx)', async () => {
    smtp.failNext(1);
    const m = email();
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await notifications.drain();
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', providerReason: expect.stringMatching(/^SMTP 451/) });
    await notifications.drain({ includeDelayed: true });
    expect(smtp.to(m.to)).toHaveLength(1);
  });

  it('records a rejected recipient as failed with the server reason, audits it, and does not retry', async () => {
    const m = email({ to: 'nobody@partner.example' });
    smtp.rejectRecipients.push('nobody@partner.example');
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await notifications.drain();
    const n = await row(m.idempotencyKey);
    expect(n).toMatchObject({ status: 'failed', attempts: 1, payloadEnc: null, providerReason: expect.stringMatching(/^SMTP 550.*recipient rejected/) });
    const audit = await t.prisma.auditEvent.findMany({ where: { action: 'notification.failed', subjectId: m.subject!.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ channel: 'email', template: 'delivery-revealed', recipient: 'n•••@partner.example', reason: n.providerReason });
    await notifications.drain({ includeDelayed: true });
    expect((await row(m.idempotencyKey)).attempts).toBe(1);
    const alert = smtp.to('bj-alerts@retailer.example').find((x) => x.text.includes(n.id));
    expect(alert?.subject).toBe('[Action needed] Email could not be delivered: delivery-revealed to n•••@partner.example');
    expect(alert?.text).toContain('550');
  });

  it('refuses an invalid address or an unknown template before anything is written', async () => {
    await expect(t.prisma.transaction((tx) => notifications.enqueueEmail(tx, email({ to: 'not-an-address' })))).rejects.toMatchObject({
      code: 'notification/invalid_email',
    });
    await expect(t.prisma.transaction((tx) => notifications.enqueueEmail(tx, email({ template: 'no-such-template' })))).rejects.toThrow(/no email template/);
  });
});

describe('SMS', () => {
  it('is sent through the Messages API and recorded with the provider id', async () => {
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    await notifications.drain();
    const [msg] = twilio.to(m.to);
    expect(msg.body).toContain(String(m.data.code));
    expect(msg.from).toBe('+15005550006');
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 1, providerId: msg.sid, payloadEnc: null });
  });

  it('retries after a 500 and a 429 (definitely not accepted) and sends exactly once', async () => {
    twilio.next(
      { kind: 'error', status: 500, code: 20500, message: 'Internal Server Error' },
      { kind: 'error', status: 429, code: 20429, message: 'Too Many Requests' },
    );
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    await notifications.drain();
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', providerReason: expect.stringMatching(/HTTP 500/) });
    await notifications.drain({ includeDelayed: true });
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', providerReason: expect.stringMatching(/HTTP 429/) });
    await notifications.drain({ includeDelayed: true });
    expect(twilio.to(m.to)).toHaveLength(1);
    expect(twilio.requests.filter((r) => r.to === m.to).map((r) => r.answered)).toEqual([500, 429, 201]);
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('retries while Twilio cannot be reached at all', async () => {
    await twilio.stop();
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    await notifications.drain();
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'queued', providerReason: expect.stringMatching(/ECONNREFUSED/) });
    await twilio.start();
    await notifications.drain({ includeDelayed: true });
    expect(twilio.to(m.to)).toHaveLength(1);
  });

  it('never resends when Twilio does not answer (it may have sent it): marked unknown for staff', async () => {
    twilio.next({ kind: 'hang' });
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    await notifications.drain();
    const n = await row(m.idempotencyKey);
    expect(n).toMatchObject({ status: 'unknown', attempts: 1, payloadEnc: null });
    await notifications.drain({ includeDelayed: true });
    expect(twilio.requests.filter((r) => r.to === m.to)).toHaveLength(1);
    expect(await t.prisma.auditEvent.count({ where: { action: 'notification.outcome_unknown', subjectId: m.subject!.id } })).toBe(1);
  });

  it('does not resend a message whose earlier attempt was interrupted mid-send (process killed)', async () => {
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    // What a crash between the claim and Twilio's answer leaves behind.
    await t.prisma.notification.update({ where: { idempotencyKey: m.idempotencyKey }, data: { status: 'sending', attempts: 1 } });
    await notifications.drain();
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'unknown', providerReason: expect.stringMatching(/interrupted/) });
    expect(twilio.requests.filter((r) => r.to === m.to)).toHaveLength(0);
  });

  it("records an invalid number as a permanent failure with Twilio's code and reason", async () => {
    twilio.next({ kind: 'error', status: 400, code: 21211, message: "The 'To' number +3161 is not a valid phone number." });
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    await notifications.drain();
    await notifications.drain({ includeDelayed: true });
    expect(await row(m.idempotencyKey)).toMatchObject({
      status: 'failed',
      attempts: 1,
      providerReason: expect.stringMatching(/HTTP 400 error 21211: The 'To' number/),
    });
    expect(twilio.requests.filter((r) => r.to === m.to)).toHaveLength(1);
    expect(await t.prisma.auditEvent.count({ where: { action: 'notification.failed', subjectId: m.subject!.id } })).toBe(1);
  });

  it('keeps codes out of logs, audit rows and the database once sent', async () => {
    const m = sms();
    await t.prisma.transaction((tx) => notifications.enqueueSms(tx, m));
    const admin = await t.db.admin();
    const before = await admin.query(`SELECT payload_enc FROM notification WHERE idempotency_key = $1`, [m.idempotencyKey]);
    expect(before.rows[0].payload_enc).toMatch(/^v2\./);
    expect(before.rows[0].payload_enc).not.toContain(String(m.data.code));
    const jobs = await admin.query(`SELECT data::text FROM pgboss.job WHERE data::text LIKE $1`, [`%${String(m.data.code)}%`]);
    expect(jobs.rows).toHaveLength(0);
    await admin.end();
    await notifications.drain();
    const code = String(m.data.code);
    expect(twilio.to(m.to)).toHaveLength(1);
    expect(await row(m.idempotencyKey)).toMatchObject({ status: 'sent', payloadEnc: null });
    expect(t.logs.join('\n')).not.toContain(code);
    const audits = await t.prisma.auditEvent.findMany();
    expect(JSON.stringify(audits.map((a) => a.detail))).not.toContain(code);
  });
});

describe('staff view and workers', () => {
  it('lists the fate of the messages about a subject for staff', async () => {
    const m = email({ to: 'also-nobody@partner.example' });
    smtp.rejectRecipients.push(m.to);
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    await notifications.drain();
    const anonymous = await t.inject({ method: 'GET', url: `/api/notifications?subjectType=test-subject&subjectId=${m.subject!.id}` });
    expect(anonymous.statusCode).toBe(401);
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const res = await t.inject({ method: 'GET', url: `/api/notifications?subjectType=test-subject&subjectId=${m.subject!.id}`, headers: viewer.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().notifications).toEqual([
      expect.objectContaining({ template: 'staff-notification-failed', status: 'sent', recipient: 'b•••@retailer.example' }),
      expect.objectContaining({
        channel: 'email',
        template: 'delivery-revealed',
        status: 'failed',
        recipient: 'a•••@partner.example',
        providerReason: expect.stringMatching(/550/),
      }),
    ]);
    expect(JSON.stringify(res.json())).not.toContain('payload');
  });

  it('has no dev outbox when DEV_OUTBOX is off', async () => {
    expect((await t.inject({ method: 'GET', url: '/dev/outbox' })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/dev/outbox.json' })).statusCode).toBe(404);
  });

  it('sends through the polling workers once started', async () => {
    await notifications.start();
    const m = email();
    await t.prisma.transaction((tx) => notifications.enqueueEmail(tx, m));
    for (let i = 0; i < 100 && smtp.to(m.to).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(smtp.to(m.to)).toHaveLength(1);
  });
});

describe('dev outbox', () => {
  it('captures mail and SMS in memory, shows them with their links and codes, and logs a summary without them', async () => {
    const d = await startTestApp({ env: { DEV_OUTBOX: 'true' } });
    try {
      const svc = d.app.get(NotificationsService);
      const link = `http://localhost:3000/delivery#${randomUUID()}`;
      const m = email({
        template: 'delivery-link',
        data: {
          recipientName: 'Jane',
          partnerName: 'Acme',
          apiName: 'Business API',
          environment: 'production',
          clientId: 'c1',
          reason: 'issued',
          link,
          expiresAt: 'tomorrow',
          maskedMobile: '+31 •••• ••78',
        },
      });
      const s = sms();
      await d.prisma.transaction(async (tx) => {
        await svc.enqueueEmail(tx, m);
        await svc.enqueueSms(tx, s);
      });
      await svc.drain();
      const json = await d.inject({ method: 'GET', url: '/dev/outbox.json' });
      expect(json.statusCode).toBe(200);
      const messages = json.json().messages;
      expect(messages.find((x: { channel: string }) => x.channel === 'email').text).toContain(link);
      expect(messages.find((x: { channel: string }) => x.channel === 'sms').text).toContain(String(s.data.code));
      const page = await d.inject({ method: 'GET', url: '/dev/outbox', headers: { accept: 'text/html' } });
      expect(page.statusCode, d.logs.filter((l) => l.includes('"error"')).join('\n')).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain(`href="${link}"`);
      const logs = d.logs.join('\n');
      expect(logs).toContain('dev outbox: email captured');
      expect(logs).not.toContain(link.split('#')[1]);
      expect(logs).not.toContain(String(s.data.code));
      expect(await d.prisma.notification.count({ where: { status: 'sent' } })).toBe(2);
    } finally {
      await d.close();
    }
  });
});
