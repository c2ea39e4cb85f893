import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { hkdfSync, randomInt } from 'node:crypto';
import { open } from '../src/common/crypto.js';
import { systemContext } from '../src/common/request-context.js';
import type { DeliveryService } from '../src/delivery/delivery.service.js';
import type { RevealedDelivery } from '../src/delivery/delivery.types.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { codeFrom, DeliveryDriver, deliveryInput, useTestSecrets } from './support/delivery-harness.js';

const SUBJECT = 'test-secret';
/** A subject whose reveal handler fails the first time for each delivery, then succeeds. */
const FLAKY_SUBJECT = 'test-secret-flaky';
const STAFF = 'alerts@retailer.example';

interface Fixture {
  t: TestApp;
  smtp: FakeSmtp;
  twilio: FakeTwilio;
  drv: DeliveryDriver;
  /** What the reveal handler received, by delivery id: the activation that commits with the reveal. */
  activated: Map<string, RevealedDelivery[]>;
}
let f: Fixture;

beforeAll(async () => {
  const smtp = await FakeSmtp.start();
  const twilio = await FakeTwilio.start();
  const t = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: STAFF, ...twilio.env() } });
  const drv = new DeliveryDriver(t, smtp, twilio);
  const activated = new Map<string, RevealedDelivery[]>();
  const activate = async (tx: Parameters<Parameters<DeliveryService['registerRevealHandler']>[1]>[0], revealed: RevealedDelivery) => {
    // Something real in the same transaction, so the test sees it commit or roll back with the reveal.
    await tx.$executeRaw`SELECT 1`;
    activated.set(revealed.deliveryId, [...(activated.get(revealed.deliveryId) ?? []), revealed]);
  };
  drv.deliveries.registerRevealHandler(SUBJECT, (tx, _ctx, revealed) => activate(tx, revealed));
  const failedOnce = new Set<string>();
  drv.deliveries.registerRevealHandler(FLAKY_SUBJECT, async (tx, _ctx, revealed) => {
    if (!failedOnce.has(revealed.deliveryId)) {
      failedOnce.add(revealed.deliveryId);
      throw new Error('activation failed');
    }
    await activate(tx, revealed);
  });
  f = { t, smtp, twilio, drv, activated };
});
afterAll(async () => {
  await f?.t.close();
  await f?.smtp.stop();
  await f?.twilio.stop();
});

const newDelivery = (over: Parameters<typeof deliveryInput>[1] = {}, subject = SUBJECT) => f.drv.create(deliveryInput(subject, over));
const row = (id: string) => f.t.prisma.delivery.findUniqueOrThrow({ where: { id } });
const activations = (deliveryId: string) => f.activated.get(deliveryId) ?? [];
const wrongOf = (c: string) => String((Number(c) + 1) % 1e8).padStart(8, '0');
/** An address of its own for one call, so the per-address tier (per delivery and address) never trips by accident. */
const freshIp = () => `10.${100 + randomInt(100)}.${randomInt(256)}.${1 + randomInt(254)}`;
const codeFor = (d: CreatedDelivery, ip = freshIp()) => f.drv.code(d.token, d.input.recipient.mobile, ip);
const askCode = (token: string, ip = freshIp()) => f.t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: ip });
const dump = () => execFileSync('pg_dump', ['--data-only', '--no-owner', f.t.db.url], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');

type CreatedDelivery = Awaited<ReturnType<DeliveryDriver['create']>>;
interface Answer {
  status: number;
  code: string;
  attemptsLeft?: number;
}
const answer = (res: { statusCode: number; json(): { code: string; details?: { attemptsLeft?: number } } }): Answer => {
  const body = res.json();
  return { status: res.statusCode, code: body.code, ...(body.details?.attemptsLeft !== undefined ? { attemptsLeft: body.details.attemptsLeft } : {}) };
};

/**
 * Spends every code of a delivery on wrong tries: three codes, five wrong tries each, every try from another
 * address. After each of the first two codes is voided, the right code is tried too and a minute passes.
 * Returns the answers round by round and the codes sent.
 */
async function lockOut(d: CreatedDelivery): Promise<{ rounds: Answer[][]; codes: string[] }> {
  const rounds: Answer[][] = [];
  const codes: string[] = [];
  for (let n = 1; n <= 3; n++) {
    const c = await codeFor(d);
    codes.push(c);
    const round: Answer[] = [];
    for (let i = 1; i <= 5; i++) round.push(answer(await f.drv.reveal(d.token, wrongOf(c), freshIp())));
    if (n < 3) {
      round.push(answer(await f.drv.reveal(d.token, c, freshIp())));
      f.t.clock.advance(61_000);
    }
    rounds.push(round);
  }
  return { rounds, codes };
}

/** A page form post, as the partner's browser sends it. */
const form = (url: string, fields: Record<string, string>, ip = '192.0.2.10') =>
  f.t.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    remoteAddress: ip,
  });
const dutchDelivery = () => newDelivery({ recipient: { ...deliveryInput(SUBJECT).recipient, language: 'nl' } });
/** Asks for the code on the page and returns the SMS body it came in. */
async function codeByPage(d: CreatedDelivery): Promise<{ page: Awaited<ReturnType<typeof form>>; sms: string; code: string }> {
  const page = await form('/delivery/code', { token: d.token });
  await f.drv.notifications.drain();
  const sms = f.twilio.to(d.input.recipient.mobile)[0].body;
  return { page, sms, code: codeFrom(sms) };
}

/**
 * Deliveries in every state a partner can leave them in, through the JSON API and the pages: pending with a
 * code sent, revealed (after a wrong code), revealed on the pages, locked, cancelled. Returns every plaintext
 * handed out on the way: secrets, link tokens, SMS codes.
 */
async function deliveriesInEveryState(): Promise<string[]> {
  const plaintexts: string[] = [];
  const keep = (d: CreatedDelivery) => (plaintexts.push(d.input.secret, d.token), d);

  const pending = keep(await newDelivery());
  plaintexts.push(await codeFor(pending));

  const revealed = keep(await newDelivery());
  const c = await codeFor(revealed);
  plaintexts.push(c);
  expect((await f.drv.reveal(revealed.token, wrongOf(c), freshIp())).statusCode).toBe(400);
  expect((await f.drv.reveal(revealed.token, c, freshIp())).statusCode).toBe(200);

  const onPages = keep(await dutchDelivery());
  await form('/delivery/open', { token: onPages.token });
  const byPage = await codeByPage(onPages);
  plaintexts.push(byPage.code);
  expect((await form('/delivery/reveal', { token: onPages.token, code: byPage.code })).statusCode).toBe(200);

  const locked = keep(await newDelivery());
  plaintexts.push(...(await lockOut(locked)).codes);
  expect((await row(locked.deliveryId)).state).toBe('locked');

  const cancelled = keep(await newDelivery());
  plaintexts.push(await codeFor(cancelled));
  await f.t.prisma.transaction((tx) => f.drv.deliveries.cancel(tx, systemContext(), cancelled.deliveryId));

  await f.drv.notifications.drain();
  return plaintexts;
}

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

describe('the partner path through the JSON API', () => {
  it('GET /delivery and the lookup consume nothing, however often', async () => {
    const d = await newDelivery();
    const before = await row(d.deliveryId);
    for (let i = 0; i < 2; i++) {
      const page = await f.t.inject({ method: 'GET', url: '/delivery', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.body).toContain('/assets/delivery.js');
      const look = await f.t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
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
  });

  it('answers each wrong code with the tries left, voids the code on the fifth, and the voided code no longer works', async () => {
    const d = await newDelivery();
    const c = await codeFor(d);
    const answers: Answer[] = [];
    for (let i = 1; i <= 5; i++) answers.push(answer(await f.drv.reveal(d.token, wrongOf(c), freshIp())));
    expect(answers).toMatchObject([
      { status: 400, code: 'delivery/wrong_code', attemptsLeft: 4 },
      { status: 400, code: 'delivery/wrong_code', attemptsLeft: 3 },
      { status: 400, code: 'delivery/wrong_code', attemptsLeft: 2 },
      { status: 400, code: 'delivery/wrong_code', attemptsLeft: 1 },
      { code: 'delivery/code_voided' },
    ]);
    expect((await f.drv.reveal(d.token, c, freshIp())).json().code).toBe('delivery/code_expired');
    expect((await row(d.deliveryId)).state).toBe('pending');
  });

  it('slows down one address after 3 wrong codes without locking the real recipient out', async () => {
    const d = await newDelivery();
    const c = await codeFor(d);
    const attacker = freshIp();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await f.drv.reveal(d.token, wrongOf(c), attacker)).json().code);
    expect(answers).toEqual(['delivery/wrong_code', 'delivery/wrong_code', 'delivery/too_many_attempts', 'delivery/too_many_attempts']);
    const blocked = await f.drv.reveal(d.token, c, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const ok = await f.drv.reveal(d.token, c, freshIp());
    expect(ok.statusCode).toBe(200);
    expect(ok.json().clientSecret).toBe(d.input.secret);
  });
});

describe('a delivery whose every code was spent on wrong tries', () => {
  // One lock-out, read (never changed) by each test below: it takes 18 requests and three minutes of clock.
  let locked: { d: CreatedDelivery; rounds: Answer[][] };
  beforeAll(async () => {
    const d = await newDelivery();
    locked = { d, ...(await lockOut(d)) };
  });

  it('answers the wrong tries of the first two codes with the tries left and the voided code, and locks on the fifth wrong try of the third', () => {
    const wrong = (left: number) => ({ status: 400, code: 'delivery/wrong_code', attemptsLeft: left });
    const voidedRound = [wrong(4), wrong(3), wrong(2), wrong(1), { code: 'delivery/code_voided' }, { code: 'delivery/code_expired' }];
    expect(locked.rounds).toMatchObject([voidedRound, voidedRound, [wrong(4), wrong(3), wrong(2), wrong(1), { status: 423, code: 'delivery/locked' }]]);
  });

  it('is locked with its secret wiped, refuses any further code and activated nothing', async () => {
    const { d } = locked;
    expect(await row(d.deliveryId)).toMatchObject({ state: 'locked', secretEnc: null, wrongTotal: 15, codesSent: 3 });
    expect((await f.drv.reveal(d.token, '12345678', freshIp())).statusCode).toBe(423);
    expect(activations(d.deliveryId)).toEqual([]);
  });

  it('audits every rejected code and the lock once', async () => {
    const count = (action: string) => f.t.prisma.auditEvent.count({ where: { action, subjectId: locked.d.input.subjectId } });
    expect(await count('delivery.locked')).toBe(1);
    expect(await count('delivery.code_rejected')).toBe(15);
  });

  it('tells staff by email, and its status says locked', async () => {
    const { d } = locked;
    await f.drv.notifications.drain();
    const alert = f.smtp.to(STAFF).find((m) => m.text.includes(d.deliveryId));
    expect(alert?.subject).toMatch(/Secret delivery locked: Acme Logistics BV, Business API \(Acceptance\)/);
    const [status] = await f.drv.deliveries.statusFor(SUBJECT, [d.input.subjectId]);
    expect(status).toMatchObject({ deliveryId: d.deliveryId, state: 'locked', codesSent: 3 });
  });
});

describe('how many codes a link gets', () => {
  it('refuses a second code within a minute', async () => {
    const d = await newDelivery();
    await codeFor(d);
    const tooSoon = await askCode(d.token);
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().code).toBe('delivery/code_resend_too_soon');
  });

  it('sends one address at most two codes for a link', async () => {
    const d = await newDelivery();
    const ip = freshIp();
    await codeFor(d, ip);
    f.t.clock.advance(61_000);
    await codeFor(d, ip);
    f.t.clock.advance(61_000);
    expect((await askCode(d.token, ip)).json().code).toBe('delivery/too_many_code_requests');
  });

  it('sends at most three codes per link, and the link stays pending', async () => {
    const d = await newDelivery();
    for (let n = 0; n < 3; n++) {
      await codeFor(d);
      f.t.clock.advance(61_000);
    }
    expect((await askCode(d.token)).json().code).toBe('delivery/no_codes_left');
    expect(f.twilio.to(d.input.recipient.mobile)).toHaveLength(3);
    expect((await row(d.deliveryId)).state).toBe('pending');
  });

  it('locks the link once its last code has expired unused', async () => {
    const d = await newDelivery();
    await codeFor(d);
    f.t.clock.advance(61_000);
    await codeFor(d);
    f.t.clock.advance(61_000);
    const last = await codeFor(d);
    f.t.clock.advance(61_000 + 10 * 60_000);
    expect((await f.drv.reveal(d.token, last, freshIp())).json().code).toBe('delivery/code_expired');
    const stuck = await askCode(d.token);
    expect(stuck.statusCode).toBe(423);
    expect((await row(d.deliveryId)).state).toBe('locked');
  });
});

describe('the partner path through the pages', () => {
  it("opens the link on a page in the contact's language, masked mobile and all, uncached", async () => {
    const d = await dutchDelivery();
    const opened = await form('/delivery/open', { token: `http://localhost:3000/delivery#${d.token}` });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers['cache-control']).toBe('no-store');
    expect(opened.body).toContain('Acme Logistics BV');
    expect(opened.body).toMatch(/\+31 •••• ••\d\d/);
    // A Dutch contact reads the pages in Dutch (the SMS and emails are Dutch too).
    expect(opened.body).toContain('<html lang="nl"');
    expect(opened.body).toContain('Stuur mij de code');
    expect(opened.body).toContain('Acceptatie');
    expect(opened.body).not.toContain('Send me the code');
  });

  it("sends the code from the page by SMS in the contact's language", async () => {
    const d = await dutchDelivery();
    const { page, sms } = await codeByPage(d);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('We hebben een code gestuurd naar');
    expect(sms).toMatch(/is uw eenmalige code/);
  });

  it('answers a wrong code on the page with an error summary that does not echo the code', async () => {
    const d = await dutchDelivery();
    const { code: c } = await codeByPage(d);
    const wrong = await form('/delivery/reveal', { token: d.token, code: wrongOf(c) });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Er is een probleem');
    expect(wrong.body).toContain('Deze code klopt niet. U kunt het nog 4 keer proberen');
    expect(wrong.body).not.toContain(wrongOf(c));
  });

  it('reveals the secret once on the page, with copy and download, and activates the subject in the same step', async () => {
    const d = await dutchDelivery();
    const { code: c } = await codeByPage(d);
    const revealed = await form('/delivery/reveal', { token: d.token, code: c });
    expect(revealed.statusCode).toBe(200);
    expect(revealed.headers['cache-control']).toBe('no-store');
    expect(revealed.body).toContain(d.input.secret);
    expect(revealed.body).toContain(`CLIENT_SECRET=${d.input.secret}`);
    expect(revealed.body).toContain('data-copy="client-secret"');
    expect(revealed.body).toContain('id="download-env"');
    expect(revealed.body).toContain('http://localhost:3000/oauth/token');
    expect(await row(d.deliveryId)).toMatchObject({ state: 'revealed', secretEnc: null, revealedIp: '192.0.2.10' });
    expect(activations(d.deliveryId)).toEqual([expect.objectContaining({ secret: d.input.secret, subjectId: d.input.subjectId })]);
  });

  it('audits the reveal as the contact, from their address, and emails them that the secret was retrieved', async () => {
    const d = await dutchDelivery();
    const { code: c } = await codeByPage(d);
    expect((await form('/delivery/reveal', { token: d.token, code: c })).statusCode).toBe(200);
    const audit = await f.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'delivery.revealed', subjectId: d.input.subjectId } });
    expect(audit).toMatchObject({ actorType: 'partner_contact', actorId: d.input.recipient.contactId, clientIp: '192.0.2.10' });
    await f.drv.notifications.drain();
    const notice = f.smtp.to(d.input.recipient.email).find((m) => m.subject.includes('opgehaald'));
    expect(notice?.text).toContain('192.0.2.10');
  });

  it('after the reveal, the link says "already retrieved" without the secret and a second reveal is refused', async () => {
    const d = await dutchDelivery();
    const { code: c } = await codeByPage(d);
    expect((await form('/delivery/reveal', { token: d.token, code: c })).statusCode).toBe(200);
    const again = await form('/delivery/open', { token: d.token });
    expect(again.body).toContain('Al opgehaald');
    expect(again.body).not.toContain(d.input.secret);
    const second = await f.drv.reveal(d.token, c);
    expect(second.statusCode).toBe(410);
    expect(second.json().code).toBe('delivery/already_revealed');
  });
});

describe('the reveal, under load and failure', () => {
  it('shows the secret to exactly one of 100 concurrent reveals', async () => {
    const d = await newDelivery();
    const c = await codeFor(d);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => f.drv.reveal(d.token, c, `10.9.${Math.floor(i / 50)}.${i % 50}`)));
    const winners = results.filter((r) => r.statusCode === 200);
    expect(winners).toHaveLength(1);
    expect(winners[0].json().clientSecret).toBe(d.input.secret);
    expect(results.filter((r) => r.body.includes(d.input.secret))).toHaveLength(1);
    expect(new Set(results.filter((r) => r.statusCode !== 200).map((r) => r.json().code))).toEqual(new Set(['delivery/already_revealed']));
    expect(activations(d.deliveryId)).toHaveLength(1);
    expect(await f.t.prisma.auditEvent.count({ where: { action: 'delivery.revealed', subjectId: d.input.subjectId } })).toBe(1);
  });

  it('consumes nothing when the reveal handler fails, so the same code works once it succeeds', async () => {
    const d = await newDelivery({}, FLAKY_SUBJECT);
    const c = await codeFor(d);
    const failed = await f.drv.reveal(d.token, c);
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain(d.input.secret);
    expect((await row(d.deliveryId)).state).toBe('pending');
    const ok = await f.drv.reveal(d.token, c);
    expect(ok.json().clientSecret).toBe(d.input.secret);
  });
});

describe('expiry, cancellation, status', () => {
  it('a link past its expiry reads expired and sends no code', async () => {
    const d = await newDelivery();
    f.t.clock.advance(7 * 86_400_000 + 60_000);
    const look = await f.t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: d.token } });
    expect(look.json().state).toBe('expired');
    expect((await askCode(d.token)).json().code).toBe('delivery/expired');
  });

  it('expires unretrieved deliveries on schedule, once: secret wiped, audited, staff told', async () => {
    const d = await newDelivery();
    f.t.clock.advance(7 * 86_400_000 + 60_000);
    expect(await f.drv.deliveries.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await row(d.deliveryId)).toMatchObject({ state: 'expired', secretEnc: null, closedReason: 'expired' });
    expect(await f.t.prisma.auditEvent.count({ where: { action: 'delivery.expired', subjectId: d.input.subjectId } })).toBe(1);
    await f.drv.notifications.drain();
    expect(f.smtp.to(STAFF).find((m) => m.text.includes(d.deliveryId) && m.subject.includes('expired'))).toBeDefined();
    expect(await f.drv.deliveries.expireDue()).toBe(0);
  });

  it('cancels (staff re-delivery), once: the old link stops working and its secret is wiped', async () => {
    const d = await newDelivery();
    const c = await codeFor(d);
    await f.t.prisma.transaction((tx) => f.drv.deliveries.cancel(tx, systemContext(), d.deliveryId));
    await f.t.prisma.transaction((tx) => f.drv.deliveries.cancel(tx, systemContext(), d.deliveryId));
    expect(await row(d.deliveryId)).toMatchObject({ state: 'cancelled', secretEnc: null });
    expect((await f.drv.reveal(d.token, c)).json().code).toBe('delivery/cancelled');
    expect(await f.t.prisma.auditEvent.count({ where: { action: 'delivery.cancelled', subjectId: d.input.subjectId } })).toBe(1);
  });

  it('shows staff the deliveries of a subject; refuses anonymous callers and a missing subject id', async () => {
    const d = await newDelivery();
    await codeFor(d);
    await f.t.prisma.transaction((tx) => f.drv.deliveries.cancel(tx, systemContext(), d.deliveryId));
    const viewer = await createStaffWithSession(f.t, { role: 'viewer' });
    const url = `/api/deliveries?subjectType=${SUBJECT}&subjectId=${d.input.subjectId}`;
    const res = await f.t.inject({ method: 'GET', url, headers: viewer.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().deliveries).toEqual([expect.objectContaining({ deliveryId: d.deliveryId, state: 'cancelled', codesSent: 1 })]);
    expect((await f.t.inject({ method: 'GET', url })).statusCode).toBe(401);
    const missing = await f.t.inject({ method: 'GET', url: `/api/deliveries?subjectType=${SUBJECT}`, headers: viewer.headers });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details.fields.subjectId).toBeDefined();
  });
});

describe('bad input', () => {
  it('the JSON API answers an unknown or malformed link with a clear 4xx that never echoes it', async () => {
    const bogus = 'A'.repeat(43);
    const nf = await f.t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: bogus } });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().code).toBe('delivery/not_found');
    const bad = await f.t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token: 'short-token-value', code: '99999999' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('delivery/invalid_link');
    for (const r of [nf, bad]) {
      expect(r.body).not.toContain(bogus);
      expect(r.body).not.toContain('short-token-value');
      expect(r.body).not.toContain('99999999');
    }
  });

  it('the link page answers a malformed link with a 400 page that never echoes it', async () => {
    const page = await form('/delivery/open', { token: 'nonsense-value' });
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('This is not a valid link');
    expect(page.body).not.toContain('nonsense-value');
  });
});

describe('what a copy of the database and the logs hold', () => {
  // Deliveries in every state, made once and only read by the leak checks below.
  let plaintexts: readonly string[];
  beforeAll(async () => {
    plaintexts = await deliveriesInEveryState();
  });

  it('a pg_dump holds no secret, link token or code of a delivery in any state', async () => {
    expect(plaintexts.length).toBeGreaterThan(10);
    const text = dump();
    for (const p of plaintexts) expect(text, 'plaintext found in the dump').not.toContain(p);
  });

  it('the sealed secrets cannot be decrypted with the database plus the config keys', async () => {
    const d = await newDelivery();
    await codeFor(d);
    expect(dump()).toContain(d.deliveryId);
    // Everything a thief with the dump and the config has: try each as the key, directly and through the
    // same HKDF the service uses, on every pending ciphertext.
    const admin = await f.t.db.admin();
    const rows = (await admin.query(`SELECT id::text, token_hash, secret_enc, hotp_secret_enc FROM delivery WHERE secret_enc IS NOT NULL`)).rows as Array<{
      id: string;
      token_hash: string;
      secret_enc: string;
      hotp_secret_enc: string;
    }>;
    await admin.end();
    expect(rows.map((r) => r.id)).toContain(d.deliveryId);
    for (const r of rows) {
      const candidates = [f.t.config.masterKey, f.t.config.secretHashKey, Buffer.from(r.token_hash, 'hex'), Buffer.from(r.token_hash)];
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
    useTestSecrets(f.drv.deliveries, SUBJECT);
    const { deliveryId } = await f.t.prisma.transaction((tx) => f.drv.deliveries.create(tx, systemContext(), input));
    expect(await row(deliveryId)).toMatchObject({ tokenHash: null, secretEnc: null });
    const text = dump();
    expect(text).toContain(deliveryId);
    expect(text).not.toContain(input.secret);
    expect(text).not.toMatch(/\/delivery#[A-Za-z0-9_-]{43}/);
    const pending = await f.t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: `delivery:${deliveryId}:link` } });
    expect(pending.payloadEnc).toMatch(/^v2\./);
    expect(f.t.config.masterKeys.open(pending.payloadEnc!, `notification:${pending.id}`).toString()).not.toMatch(/\/delivery#/);
    await f.drv.notifications.drain();
    expect((await row(deliveryId)).secretEnc).not.toBeNull();
    const mail = f.smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'))!;
    const token = /\/delivery#([A-Za-z0-9_-]{43})/.exec(mail.text)![1];
    expect((await f.t.prisma.notification.findUniqueOrThrow({ where: { id: pending.id } })).payloadEnc).toBeNull();
    for (const p of [input.secret, token]) expect(f.t.logs.join('\n')).not.toContain(p);
  });

  it('no token, code or secret of a delivery in any state reaches the logs or the audit trail', async () => {
    expect(plaintexts.length).toBeGreaterThan(10);
    const logs = f.t.logs.join('\n');
    const audit = JSON.stringify((await f.t.prisma.auditEvent.findMany()).map((a) => [a.detail, a.subjectId, a.clientIp]));
    for (const p of plaintexts) {
      expect(logs).not.toContain(p);
      expect(audit).not.toContain(p);
    }
  });
});

describe('the JSON API is documented', () => {
  it('lists the partner-side delivery endpoints in the OpenAPI document', async () => {
    const doc = (await f.t.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    for (const p of ['/api/deliveries/lookup', '/api/deliveries/code', '/api/deliveries/reveal']) expect(doc.paths[p]?.post, p).toBeDefined();
    expect(doc.paths['/api/deliveries'].get).toBeDefined();
    expect(doc.components.schemas.RevealedCredentialView.properties.clientSecret).toBeDefined();
  });
});
