import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { hkdfSync } from 'node:crypto';
import { open } from '../src/common/crypto.js';
import { systemContext } from '../src/common/request-context.js';
import type { RevealedDelivery } from '../src/delivery/delivery.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { codeFrom, DeliveryDriver, deliveryInput, useTestSecrets } from './support/delivery-harness.js';

const SUBJECT = 'test-secret';
const STAFF = 'alerts@retailer.example';
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
const activated: RevealedDelivery[] = [];
let failActivation = false;
/** Every plaintext that must never be stored or logged: secrets, link tokens, SMS codes. */
const plaintexts: string[] = [];

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: STAFF, ...twilio.env() } });
  drv = new DeliveryDriver(t, smtp, twilio);
  drv.deliveries.registerRevealHandler(SUBJECT, async (tx, _ctx, revealed) => {
    if (failActivation) throw new Error('activation failed');
    // Something real in the same transaction, so the test sees it commit or roll back with the reveal.
    await tx.$executeRaw`SELECT 1`;
    activated.push(revealed);
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

async function newDelivery(over: Parameters<typeof deliveryInput>[1] = {}) {
  const d = await drv.create(deliveryInput(SUBJECT, over));
  plaintexts.push(d.input.secret, d.token);
  return d;
}
async function code(token: string, mobile: string, ip?: string) {
  const c = await drv.code(token, mobile, ip);
  plaintexts.push(c);
  return c;
}
const row = (id: string) => t.prisma.delivery.findUniqueOrThrow({ where: { id } });
const wrongOf = (c: string) => String((Number(c) + 1) % 1e8).padStart(8, '0');
let ipSeq = 1;
const freshIp = () => `203.0.113.${ipSeq++}`;

describe('the email', () => {
  it('carries a one-time link with the token in the fragment, says what it is for, when it expires, and that a code follows', async () => {
    const d = await newDelivery();
    expect(d.emailText).toContain(`http://localhost:3000/delivery#${d.token}`);
    expect(d.emailText).toContain('Acme Logistics BV');
    expect(d.emailText).toContain('Business API');
    expect(d.emailText).toContain('Acceptance');
    expect(d.emailText).toContain(d.input.display.clientId);
    expect(d.emailText).toMatch(/works until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(d.emailText).toContain('SMS to +31 •••• ••');
    const r = await row(d.deliveryId);
    expect(r.expiresAt.getTime() - r.createdAt.getTime()).toBe(7 * 86_400_000);
    expect(r.tokenHash).not.toContain(d.token);
  });
});

describe('the partner path', () => {
  it('GET never consumes anything; code by SMS; wrong codes; lockout after the last code; staff alerted', async () => {
    const d = await newDelivery();
    const before = await row(d.deliveryId);
    for (let i = 0; i < 2; i++) {
      const page = await t.inject({ method: 'GET', url: '/delivery', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.body).toContain('/assets/delivery.js');
      const look = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
      expect(look.statusCode).toBe(200);
      expect(look.json()).toMatchObject({
        state: 'pending',
        partnerName: 'Acme Logistics BV',
        maskedMobile: expect.stringMatching(/^\+31 •••• ••\d\d$/),
        codesLeft: 3,
        codeExpiresAt: null,
      });
    }
    expect(await row(d.deliveryId)).toEqual(before);

    // Three codes, five wrong tries each, every try from another address so the per-address tier never trips.
    for (let n = 1; n <= 3; n++) {
      const c = await code(d.token, d.input.recipient.mobile, freshIp());
      for (let i = 1; i <= 5; i++) {
        const res = await drv.reveal(d.token, wrongOf(c), freshIp());
        if (n === 3 && i === 5) {
          expect(res.statusCode).toBe(423);
          expect(res.json().code).toBe('delivery/locked');
        } else if (i === 5) {
          expect(res.json().code).toBe('delivery/code_voided');
        } else {
          expect(res.statusCode).toBe(400);
          expect(res.json()).toMatchObject({ code: 'delivery/wrong_code', details: { attemptsLeft: 5 - i } });
        }
      }
      if (n < 3) {
        const voided = await drv.reveal(d.token, c, freshIp());
        expect(voided.json().code).toBe('delivery/code_expired');
        t.clock.advance(61_000);
      }
    }
    const locked = await row(d.deliveryId);
    expect(locked).toMatchObject({ state: 'locked', secretEnc: null, wrongTotal: 15, codesSent: 3 });
    expect((await drv.reveal(d.token, '12345678', freshIp())).statusCode).toBe(423);
    expect(activated.find((a) => a.deliveryId === d.deliveryId)).toBeUndefined();
    expect(await t.prisma.auditEvent.count({ where: { action: 'delivery.locked', subjectId: d.input.subjectId } })).toBe(1);
    expect(await t.prisma.auditEvent.count({ where: { action: 'delivery.code_rejected', subjectId: d.input.subjectId } })).toBe(15);
    await drv.notifications.drain();
    const alert = smtp.to(STAFF).find((m) => m.text.includes(d.deliveryId));
    expect(alert?.subject).toMatch(/Secret delivery locked: Acme Logistics BV, Business API \(Acceptance\)/);
    const [status] = await drv.deliveries.statusFor(SUBJECT, [d.input.subjectId]);
    expect(status).toMatchObject({ deliveryId: d.deliveryId, state: 'locked', codesSent: 3 });
  });

  it('slows down one address after 3 wrong codes without locking the real recipient out', async () => {
    const d = await newDelivery();
    const c = await code(d.token, d.input.recipient.mobile, freshIp());
    const attacker = freshIp();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await drv.reveal(d.token, wrongOf(c), attacker)).json().code);
    expect(answers).toEqual(['delivery/wrong_code', 'delivery/wrong_code', 'delivery/too_many_attempts', 'delivery/too_many_attempts']);
    const blocked = await drv.reveal(d.token, c, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const ok = await drv.reveal(d.token, c, freshIp());
    expect(ok.statusCode).toBe(200);
    expect(ok.json().clientSecret).toBe(d.input.secret);
  });

  it('sends at most one code a minute and three per link', async () => {
    const d = await newDelivery();
    const ip = freshIp();
    await code(d.token, d.input.recipient.mobile, ip);
    const tooSoon = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: d.token }, remoteAddress: freshIp() });
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().code).toBe('delivery/code_resend_too_soon');
    t.clock.advance(61_000);
    await code(d.token, d.input.recipient.mobile, ip);
    t.clock.advance(61_000);
    const third = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: d.token }, remoteAddress: ip });
    expect(third.json().code).toBe('delivery/too_many_code_requests');
    const c3 = await code(d.token, d.input.recipient.mobile, freshIp());
    t.clock.advance(61_000);
    const fourth = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: d.token }, remoteAddress: freshIp() });
    expect(fourth.json().code).toBe('delivery/no_codes_left');
    expect(twilio.to(d.input.recipient.mobile)).toHaveLength(3);
    expect((await row(d.deliveryId)).state).toBe('pending');
    // The last code still works while valid; an expired code does not.
    t.clock.advance(10 * 60_000);
    expect((await drv.reveal(d.token, c3, freshIp())).json().code).toBe('delivery/code_expired');
    const stuck = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: d.token }, remoteAddress: freshIp() });
    expect(stuck.statusCode).toBe(423);
    expect((await row(d.deliveryId)).state).toBe('locked');
  });

  it('happy path through the pages: open, send the code, reveal once with copy and download, then "already retrieved"', async () => {
    const d = await newDelivery({ recipient: { ...deliveryInput(SUBJECT).recipient, language: 'nl' } });
    const form = (url: string, fields: Record<string, string>, ip = '192.0.2.10') =>
      t.inject({
        method: 'POST',
        url,
        payload: new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        remoteAddress: ip,
      });

    const opened = await form('/delivery/open', { token: `http://localhost:3000/delivery#${d.token}` });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers['cache-control']).toBe('no-store');
    expect(opened.body).toContain('Acme Logistics BV');
    expect(opened.body).toMatch(/\+31 •••• ••\d\d/);
    // A Dutch contact reads the pages in Dutch (the SMS and emails below are Dutch too).
    expect(opened.body).toContain('<html lang="nl"');
    expect(opened.body).toContain('Stuur mij de code');
    expect(opened.body).toContain('Acceptatie');
    expect(opened.body).not.toContain('Send me the code');

    const sent = await form('/delivery/code', { token: d.token });
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('We hebben een code gestuurd naar');
    await drv.notifications.drain();
    const smsBody = twilio.to(d.input.recipient.mobile)[0].body;
    expect(smsBody).toMatch(/is uw eenmalige code/);
    const c = codeFrom(smsBody);
    plaintexts.push(c);

    const wrong = await form('/delivery/reveal', { token: d.token, code: wrongOf(c) });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Er is een probleem');
    expect(wrong.body).toContain('Deze code klopt niet. U kunt het nog 4 keer proberen');
    expect(wrong.body).not.toContain(wrongOf(c));

    const revealed = await form('/delivery/reveal', { token: d.token, code: c });
    expect(revealed.statusCode).toBe(200);
    expect(revealed.headers['cache-control']).toBe('no-store');
    expect(revealed.body).toContain(d.input.secret);
    expect(revealed.body).toContain(`CLIENT_SECRET=${d.input.secret}`);
    expect(revealed.body).toContain('data-copy="client-secret"');
    expect(revealed.body).toContain('id="download-env"');
    expect(revealed.body).toContain('http://localhost:3000/oauth/token');

    const r = await row(d.deliveryId);
    expect(r).toMatchObject({ state: 'revealed', secretEnc: null, revealedIp: '192.0.2.10' });
    expect(activated.filter((a) => a.deliveryId === d.deliveryId)).toEqual([expect.objectContaining({ secret: d.input.secret, subjectId: d.input.subjectId })]);
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'delivery.revealed', subjectId: d.input.subjectId } });
    expect(audit).toMatchObject({ actorType: 'partner_contact', actorId: d.input.recipient.contactId, clientIp: '192.0.2.10' });

    await drv.notifications.drain();
    const notice = smtp.to(d.input.recipient.email).find((m) => m.subject.includes('opgehaald'));
    expect(notice?.text).toContain('192.0.2.10');

    const again = await form('/delivery/open', { token: d.token });
    expect(again.body).toContain('Al opgehaald');
    expect(again.body).not.toContain(d.input.secret);
    const second = await drv.reveal(d.token, c);
    expect(second.statusCode).toBe(410);
    expect(second.json().code).toBe('delivery/already_revealed');
  });

  it('shows the secret to exactly one of 100 concurrent reveals', async () => {
    const d = await newDelivery();
    const c = await code(d.token, d.input.recipient.mobile, freshIp());
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => drv.reveal(d.token, c, `10.9.${Math.floor(i / 50)}.${i % 50}`)));
    const winners = results.filter((r) => r.statusCode === 200);
    expect(winners).toHaveLength(1);
    expect(winners[0].json().clientSecret).toBe(d.input.secret);
    expect(results.filter((r) => r.body.includes(d.input.secret))).toHaveLength(1);
    expect(new Set(results.filter((r) => r.statusCode !== 200).map((r) => r.json().code))).toEqual(new Set(['delivery/already_revealed']));
    expect(activated.filter((a) => a.deliveryId === d.deliveryId)).toHaveLength(1);
    expect(await t.prisma.auditEvent.count({ where: { action: 'delivery.revealed', subjectId: d.input.subjectId } })).toBe(1);
  });

  it('consumes nothing when the reveal handler fails', async () => {
    const d = await newDelivery();
    const c = await code(d.token, d.input.recipient.mobile, freshIp());
    failActivation = true;
    const failed = await drv.reveal(d.token, c);
    failActivation = false;
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain(d.input.secret);
    expect((await row(d.deliveryId)).state).toBe('pending');
    const ok = await drv.reveal(d.token, c);
    expect(ok.json().clientSecret).toBe(d.input.secret);
  });
});

describe('expiry, cancellation, status', () => {
  it('expires unretrieved deliveries on schedule: secret wiped, audited, staff told', async () => {
    const d = await newDelivery();
    t.clock.advance(7 * 86_400_000 + 60_000);
    const look = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
    expect(look.json().state).toBe('expired');
    expect((await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: d.token } })).json().code).toBe('delivery/expired');
    expect(await drv.deliveries.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await row(d.deliveryId)).toMatchObject({ state: 'expired', secretEnc: null, closedReason: 'expired' });
    expect(await t.prisma.auditEvent.count({ where: { action: 'delivery.expired', subjectId: d.input.subjectId } })).toBe(1);
    await drv.notifications.drain();
    expect(smtp.to(STAFF).find((m) => m.text.includes(d.deliveryId) && m.subject.includes('expired'))).toBeDefined();
    expect(await drv.deliveries.expireDue()).toBe(0);
  });

  it('cancels (staff re-delivery): the old link stops working and its secret is wiped', async () => {
    const d = await newDelivery();
    const c = await code(d.token, d.input.recipient.mobile, freshIp());
    await t.prisma.transaction((tx) => drv.deliveries.cancel(tx, systemContext(), d.deliveryId));
    await t.prisma.transaction((tx) => drv.deliveries.cancel(tx, systemContext(), d.deliveryId));
    expect(await row(d.deliveryId)).toMatchObject({ state: 'cancelled', secretEnc: null });
    expect((await drv.reveal(d.token, c)).json().code).toBe('delivery/cancelled');
    expect(await t.prisma.auditEvent.count({ where: { action: 'delivery.cancelled', subjectId: d.input.subjectId } })).toBe(1);
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const res = await t.inject({ method: 'GET', url: `/api/deliveries?subjectType=${SUBJECT}&subjectId=${d.input.subjectId}`, headers: viewer.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().deliveries).toEqual([expect.objectContaining({ deliveryId: d.deliveryId, state: 'cancelled', codesSent: 1 })]);
    expect((await t.inject({ method: 'GET', url: `/api/deliveries?subjectType=${SUBJECT}&subjectId=${d.input.subjectId}` })).statusCode).toBe(401);
    const missing = await t.inject({ method: 'GET', url: `/api/deliveries?subjectType=${SUBJECT}`, headers: viewer.headers });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details.fields.subjectId).toBeDefined();
  });

  it('answers bad input with a clear 4xx that never echoes it', async () => {
    const bogus = 'A'.repeat(43);
    const nf = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: bogus } });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().code).toBe('delivery/not_found');
    const bad = await t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token: 'short-token-value', code: '99999999' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('delivery/invalid_link');
    for (const r of [nf, bad]) {
      expect(r.body).not.toContain(bogus);
      expect(r.body).not.toContain('short-token-value');
      expect(r.body).not.toContain('99999999');
    }
    const page = await t.inject({
      method: 'POST',
      url: '/delivery/open',
      payload: 'token=nonsense-value',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('This is not a valid link');
    expect(page.body).not.toContain('nonsense-value');
  });
});

describe('what a copy of the database and the logs hold', () => {
  it('a pg_dump holds no secret, link token or code, and the secrets cannot be decrypted with the database plus the config keys', async () => {
    const d = await newDelivery();
    await code(d.token, d.input.recipient.mobile, freshIp());
    await drv.notifications.drain();
    const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', t.db.url], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
    expect(dump).toContain(d.deliveryId);
    for (const p of plaintexts) expect(dump, 'plaintext found in the dump').not.toContain(p);

    // Everything a thief with the dump and the config has: try each as the key, directly and through the
    // same HKDF the service uses, on every pending ciphertext.
    const admin = await t.db.admin();
    const rows = (await admin.query(`SELECT id::text, token_hash, secret_enc, hotp_secret_enc FROM delivery WHERE secret_enc IS NOT NULL`)).rows as Array<{
      id: string;
      token_hash: string;
      secret_enc: string;
      hotp_secret_enc: string;
    }>;
    await admin.end();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const candidates = [t.config.masterKey, t.config.secretHashKey, Buffer.from(r.token_hash, 'hex'), Buffer.from(r.token_hash)];
      for (const k of candidates) {
        const derived = Buffer.from(hkdfSync('sha256', k, Buffer.from(r.id), `delivery-secret:v1:${r.id}`, 32));
        for (const key of [k, derived]) {
          for (const aad of [`delivery:${r.id}`, '']) expect(() => open(key, r.secret_enc, aad)).toThrow();
        }
      }
    }
  });

  it('while the link email waits to be sent, neither the token nor the sealed secret exists; both are made as it is sent', async () => {
    const input = deliveryInput(SUBJECT);
    plaintexts.push(input.secret);
    useTestSecrets(drv.deliveries, SUBJECT);
    const { deliveryId } = await t.prisma.transaction((tx) => drv.deliveries.create(tx, systemContext(), input));
    expect(await row(deliveryId)).toMatchObject({ tokenHash: null, secretEnc: null });
    const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', t.db.url], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
    expect(dump).toContain(deliveryId);
    expect(dump).not.toContain(input.secret);
    expect(dump).not.toMatch(/\/delivery#[A-Za-z0-9_-]{43}/);
    const pending = await t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: `delivery:${deliveryId}:link` } });
    expect(pending.payloadEnc).toMatch(/^v2\./);
    expect(t.config.masterKeys.open(pending.payloadEnc!, `notification:${pending.id}`).toString()).not.toMatch(/\/delivery#/);
    await drv.notifications.drain();
    expect((await row(deliveryId)).secretEnc).not.toBeNull();
    const mail = smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'))!;
    plaintexts.push(/\/delivery#([A-Za-z0-9_-]{43})/.exec(mail.text)![1]);
    expect((await t.prisma.notification.findUniqueOrThrow({ where: { id: pending.id } })).payloadEnc).toBeNull();
  });

  it('no token, code or secret reaches the logs or the audit trail', async () => {
    expect(plaintexts.length).toBeGreaterThan(10);
    const logs = t.logs.join('\n');
    const audit = JSON.stringify((await t.prisma.auditEvent.findMany()).map((a) => [a.detail, a.subjectId, a.clientIp]));
    for (const p of plaintexts) {
      expect(logs).not.toContain(p);
      expect(audit).not.toContain(p);
    }
  });
});

describe('the JSON API is documented', () => {
  it('lists the partner-side delivery endpoints in the OpenAPI document', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const p of ['/api/deliveries/lookup', '/api/deliveries/code', '/api/deliveries/reveal']) expect(doc.paths[p]?.post, p).toBeDefined();
    expect(doc.paths['/api/deliveries'].get).toBeDefined();
    expect(doc.components.schemas.RevealedCredentialView.properties.clientSecret).toBeDefined();
  });
});
