import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AuditService } from '../../src/audit/audit.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { DeliveryDriver, deliveryInput } from '../support/delivery-harness.js';
import { FakeSmtp } from '../support/fake-smtp.js';
import { FakeTwilio } from '../support/fake-twilio.js';

/**
 * Partner isolation: a partner holding someone else's status link or delivery link (or a
 * near miss of their own) gets nothing of the other's. The link token is the partner's only credential.
 */
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;

interface Applicant {
  legalName: string;
  email: string;
  token: string;
  reference: string;
}

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
});
afterAll(async () => {
  const verify = await t.app.get(AuditService).verify();
  process.stdout.write(`[proof] partner isolation: audit chain after the suite: ${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`);
  await t.close();
  await smtp.stop();
  await twilio.stop();
  expect(verify.ok).toBe(true);
});

async function apply(name: string, ip: string): Promise<Applicant> {
  const form = await t.inject({ method: 'GET', url: '/apply', remoteAddress: ip });
  const formIssuedAt = /name="formIssuedAt" value="([^"]+)"/.exec(form.body)![1];
  const item = /name="items" value="([^"]+)"/.exec(form.body)![1];
  const email = `${name.toLowerCase()}@${name.toLowerCase()}.example`;
  const legalName = `${name} Isolation B.V.`;
  t.clock.advance(60_000);
  const body = new URLSearchParams({
    legalName,
    registrationNumber: String(10_000_000 + Math.floor(Math.random() * 80_000_000)),
    country: 'NL',
    contactName: `${name} Contact`,
    contactEmail: email,
    contactMobile: '+31612345678',
    language: 'en',
    items: item,
    purpose: `${name} wants to look up business customers in its shop.`,
    formIssuedAt,
    website: '',
  }).toString();
  const res = await t.inject({
    method: 'POST',
    url: '/apply/submit',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: body,
    remoteAddress: ip,
  });
  expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
  const token = /\/requests\/([^/]+)\/confirmation/.exec(String(res.headers.location))![1];
  const page = await t.inject({ method: 'GET', url: `/requests/${token}`, headers: { accept: 'text/html' } });
  const reference = /OB-[A-Z0-9]{4}-[A-Z0-9]{4}/.exec(page.body)?.[0] ?? '';
  expect(reference).not.toBe('');
  return { legalName, email, token, reference };
}

/** Near misses of a token: one character changed, truncated, extended, case-flipped, and an unrelated one. */
function nearMisses(token: string): string[] {
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  return [
    token.slice(0, -1) + flip(token.slice(-1)),
    flip(token[0]) + token.slice(1),
    token.slice(0, -1),
    token + 'A',
    token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
    randomBytes(32).toString('base64url'),
  ].filter((x) => x !== token);
}

describe('partner isolation', () => {
  let a: Applicant;
  let b: Applicant;

  beforeAll(async () => {
    a = await apply('Alpha', '198.51.100.10');
    b = await apply('Bravo', '198.51.100.20');
  });

  it("a status link shows its own request and nothing of another partner's", async () => {
    let checked = 0;
    for (const [own, other] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const path of ['', '/confirmation', '/edit', '/withdraw']) {
        const res = await t.inject({ method: 'GET', url: `/requests/${own.token}${path}`, headers: { accept: 'text/html' } });
        checked++;
        if (path === '/edit') {
          // Editing is open only once changes are requested: a submitted request is sent to its own status page.
          expect(res.statusCode, `${path} of ${own.legalName}`).toBe(303);
          expect(res.headers.location).toBe(`/requests/${own.token}`);
        } else {
          expect(res.statusCode, `${path} of ${own.legalName}`).toBe(200);
          expect(res.body).toContain(own.reference);
        }
        for (const leak of [other.reference, other.legalName, other.email]) expect(res.body, `${path} of ${own.legalName}`).not.toContain(leak);
      }
    }
    process.stdout.write(`[proof] partner isolation: ${checked} status-link pages checked for the other partner's data\n`);
  });

  it('near misses of a status link reveal nothing and change nothing', async () => {
    let tried = 0;
    for (const p of [a, b]) {
      for (const wrong of nearMisses(p.token)) {
        for (const [method, path] of [
          ['GET', ''],
          ['GET', '/confirmation'],
          ['GET', '/edit'],
          ['GET', '/withdraw'],
          ['POST', '/withdraw'],
          ['POST', '/edit'],
        ] as const) {
          const res = await t.inject({
            method,
            url: `/requests/${encodeURIComponent(wrong)}${path}`,
            headers: { accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
            payload: method === 'POST' ? 'reason=not+mine&purpose=trying+to+change+another+partners+request' : undefined,
          });
          tried++;
          expect(res.statusCode, `${method} ${path} with a near miss`).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          for (const leak of [a.reference, b.reference, a.legalName, b.legalName]) expect(res.body).not.toContain(leak);
        }
      }
    }
    const states = await t.prisma.onboardingRequest.findMany({
      where: { reference: { in: [a.reference, b.reference] } },
      select: { state: true, version: true },
    });
    expect(states.map((s) => s.state)).toEqual(['submitted', 'submitted']);
    process.stdout.write(`[proof] partner isolation: ${tried} requests with near-miss status links, 0 leaks, both requests unchanged\n`);
  });

  it("a delivery link with another partner's SMS code, or a near miss of a link, reveals no secret", async () => {
    const driver = new DeliveryDriver(t, smtp, twilio);
    const activated: string[] = [];
    // A generic subject: delivery runs its owner's handler inside the reveal transaction.
    driver.deliveries.registerRevealHandler('proof_isolation', async (_tx, _ctx, revealed) => {
      activated.push(String((revealed as { subjectId?: string }).subjectId));
    });
    const dA = await driver.create(deliveryInput('proof_isolation'));
    const dB = await driver.create(deliveryInput('proof_isolation'));
    const codeA = await driver.code(dA.token, dA.input.recipient.mobile, '198.51.100.31');
    const codeB = await driver.code(dB.token, dB.input.recipient.mobile, '198.51.100.32');
    const secrets = [dA.input.secret, dB.input.secret];
    const attempts: Array<[string, string, string]> = [
      [dA.token, codeB, 'A link + B code'],
      [dB.token, codeA, 'B link + A code'],
      ...nearMisses(dA.token)
        .slice(0, 3)
        .map((w): [string, string, string] => [w, codeA, 'near miss of A link + A code']),
    ];
    let tried = 0;
    for (const [token, code, what] of attempts) {
      const res = await driver.reveal(token, code, '198.51.100.33');
      tried++;
      expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, what).toBeLessThan(500);
      for (const s of secrets) expect(res.body, what).not.toContain(s);
    }
    // Looking a delivery up with one's own link shows only one's own details.
    const lookA = await t.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: dA.token } });
    expect(lookA.statusCode).toBe(200);
    expect(lookA.body).toContain(dA.input.display.clientId);
    expect(lookA.body).not.toContain(dB.input.display.clientId);
    // The rightful owner still gets exactly their own secret.
    const own = await driver.reveal(dA.token, codeA, '198.51.100.31');
    expect(own.statusCode, own.body).toBe(200);
    expect(own.body).toContain(dA.input.secret);
    expect(own.body).not.toContain(dB.input.secret);
    expect(activated).toEqual([dA.input.subjectId]);
    process.stdout.write(`[proof] partner isolation: ${tried} cross-partner reveal attempts, 0 secrets revealed; the owner's own reveal still works\n`);
  });
});
