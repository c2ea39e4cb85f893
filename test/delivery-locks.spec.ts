import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../src/common/request-context.js';
import { CatalogueService } from '../src/credentials/catalogue.service.js';
import { CREDENTIAL_SECRET_SUBJECT, CredentialsService } from '../src/credentials/credentials.service.js';
import { DeliveryService } from '../src/delivery/delivery.service.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { API_ENV, createPartner } from './support/credentials.helpers.js';
import { codeFrom, linkTokenFrom } from './support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

/**
 * Lock order: every transaction that locks a credential's rows and its delivery takes the credential first,
 * then the delivery. Reveal (delivery, then the credential it activates) against re-delivery and rotation
 * cancel (credential, then the delivery they cancel) used to deadlock; PostgreSQL then aborted one side.
 */
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let reviewer: StaffLogin;
let starter: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  reviewer = await createStaffWithSession(t, { role: 'reviewer' });
  starter = await createStaffWithSession(t, { role: 'reviewer' });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const post = (url: string, who: StaffLogin, body: unknown = {}) =>
  t.inject({ method: 'POST', url, headers: { ...who.headers, 'content-type': 'application/json', accept: 'application/json' }, payload: JSON.stringify(body) });

let ipSeq = 0;
let mobileSeq = 0;
const nextIp = () => `203.0.113.${(ipSeq++ % 250) + 1}`;

/** A credential whose secret waits in a delivery, with its link read from the email and a code from the SMS. */
async function pendingWithCode(): Promise<{ credentialId: string; deliveryId: string; token: string; code: string }> {
  const svc = t.app.get(CredentialsService);
  const partner = await createPartner(t);
  const contact = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: partner.contactId } });
  const mobile = `+3161${String(2_000_000 + mobileSeq++)}`;
  await t.prisma.technicalContact.update({ where: { id: contact.id }, data: { mobile } });
  const issued = await t.prisma.transaction(async (tx) => {
    const p = await svc.createPendingCredential(tx, systemContext(), {
      ...partner,
      onboardingRequestId: null,
      apiEnvironmentId: API_ENV.business.acceptance,
      environment: 'acceptance',
    });
    const { deliveryId } = await t.app.get(DeliveryService).create(tx, systemContext(), {
      subjectType: CREDENTIAL_SECRET_SUBJECT,
      subjectId: p.secretId,
      recipient: { contactId: contact.id, name: contact.name, email: contact.email, mobile, language: 'en' },
      display: await t.app.get(CatalogueService).display(tx, 'Partner B.V.', p.clientId, API_ENV.business.acceptance, 'issued'),
    });
    await svc.linkDelivery(tx, p.secretId, deliveryId);
    return { ...p, deliveryId };
  });
  await t.app.get(NotificationsService).drain();
  const token = linkTokenFrom(smtp.to(contact.email).find((m) => m.text.includes('/delivery#'))!.text);
  const res = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: nextIp() });
  expect(res.statusCode, res.body).toBe(200);
  await t.app.get(NotificationsService).drain();
  return { credentialId: issued.credentialId, deliveryId: issued.deliveryId, token, code: codeFrom(twilio.to(mobile).at(-1)!.body) };
}

async function deadlocksSoFar(): Promise<number> {
  // The counter is kept per database and flushed by each backend shortly after it goes idle.
  await new Promise((r) => setTimeout(r, 1200));
  const rows = await t.prisma.$queryRaw<Array<{ n: number }>>`SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`;
  return rows[0].n;
}

const tally = (codes: number[]) => codes.reduce<Record<number, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {});

describe('reveal against re-delivery', () => {
  it('many parallel rounds: each ends with exactly one winner, no 5xx, and PostgreSQL detects no deadlock', async () => {
    const before = await deadlocksSoFar();
    const statuses: number[] = [];
    const failures: string[] = [];
    const ROUNDS = 8;
    const PER_ROUND = 5;
    for (let round = 0; round < ROUNDS; round++) {
      const batch = [];
      for (let i = 0; i < PER_ROUND; i++) batch.push(await pendingWithCode());
      const results = await Promise.all(
        batch.map(async (b) => {
          const [reveal, redeliver] = await Promise.all([
            t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token: b.token, code: b.code }, remoteAddress: nextIp() }),
            post(`/api/credentials/${b.credentialId}/redeliver`, reviewer),
          ]);
          return { b, reveal, redeliver };
        }),
      );
      for (const { b, reveal, redeliver } of results) {
        statuses.push(reveal.statusCode, redeliver.statusCode);
        if (reveal.statusCode >= 500 || redeliver.statusCode >= 500) {
          failures.push(`${reveal.statusCode} ${reveal.body} / ${redeliver.statusCode} ${redeliver.body}`);
          continue;
        }
        // One of the two wins: the secret is shown and the re-delivery finds nothing pending, or the re-delivery
        // cancels the link first and the reveal is told so.
        const state = (await t.prisma.delivery.findUniqueOrThrow({ where: { id: b.deliveryId } })).state;
        const revealWon =
          reveal.statusCode === 200 && redeliver.statusCode === 409 && redeliver.json().code === 'delivery/nothing_pending' && state === 'revealed';
        const redeliverWon = redeliver.statusCode === 200 && reveal.json().code === 'delivery/cancelled' && state === 'cancelled';
        if (!revealWon && !redeliverWon) failures.push(`${reveal.statusCode} ${reveal.body} / ${redeliver.statusCode} ${redeliver.body} / ${state}`);
      }
    }
    const after = await deadlocksSoFar();
    process.stdout.write(
      `[locks] ${ROUNDS * PER_ROUND} reveal/re-delivery races -> ${JSON.stringify(tally(statuses))}; deadlocks detected: ${after - before}\n`,
    );
    expect(failures).toEqual([]);
    expect(after - before).toBe(0);
  }, 120_000);
});

describe('reveal against rotation cancel', () => {
  it('parallel rounds: no 5xx and no deadlock', async () => {
    const before = await deadlocksSoFar();
    const statuses: number[] = [];
    const failures: string[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = [];
      for (let i = 0; i < 4; i++) {
        const b = await pendingWithCode();
        // The credential's first secret is revealed; a rotation then sends a second one.
        expect(
          (await t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token: b.token, code: b.code }, remoteAddress: nextIp() })).statusCode,
        ).toBe(200);
        const start = await post(`/api/credentials/${b.credentialId}/rotations`, starter, { overlapDays: 3 });
        expect(start.statusCode, start.body).toBe(201);
        const rotationId = (start.json() as { id: string }).id;
        expect((await post(`/api/rotations/${rotationId}/approve`, reviewer)).statusCode).toBe(200);
        await t.app.get(NotificationsService).drain();
        const { contactId } = await t.prisma.credential.findUniqueOrThrow({ where: { id: b.credentialId } });
        const contact = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: contactId } });
        const token = linkTokenFrom(
          smtp
            .to(contact.email)
            .filter((m) => m.text.includes('/delivery#'))
            .at(-1)!.text,
        );
        expect((await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: nextIp() })).statusCode).toBe(200);
        await t.app.get(NotificationsService).drain();
        batch.push({ rotationId, token, code: codeFrom(twilio.to(contact.mobile).at(-1)!.body) });
      }
      const results = await Promise.all(
        batch.map((b) =>
          Promise.all([
            t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token: b.token, code: b.code }, remoteAddress: nextIp() }),
            post(`/api/rotations/${b.rotationId}/cancel`, reviewer, { reason: 'race' }),
          ]),
        ),
      );
      for (const [reveal, cancel] of results) {
        statuses.push(reveal.statusCode, cancel.statusCode);
        if (reveal.statusCode >= 500 || cancel.statusCode >= 500) {
          failures.push(`${reveal.statusCode} ${reveal.body} / ${cancel.statusCode} ${cancel.body}`);
          continue;
        }
        expect([reveal.statusCode, cancel.statusCode].filter((s) => s === 200)).toHaveLength(1);
      }
    }
    const after = await deadlocksSoFar();
    process.stdout.write(`[locks] 16 reveal/rotation-cancel races -> ${JSON.stringify(tally(statuses))}; deadlocks detected: ${after - before}\n`);
    expect(failures).toEqual([]);
    expect(after - before).toBe(0);
  }, 120_000);
});

describe('a deadlock victim', () => {
  it('its transaction runs once more and succeeds; nothing of the aborted run stands', async () => {
    const [a, b] = [await createPartner(t), await createPartner(t)];
    const admin = await t.db.admin();
    let runs = 0;
    try {
      // The other side detects late, so PostgreSQL picks the application's transaction as the victim.
      await admin.query(`SET deadlock_timeout = '20s'`);
      await admin.query('BEGIN');
      await admin.query('SELECT 1 FROM partner WHERE id = $1 FOR UPDATE', [a.partnerId]);
      const running = t.prisma.transaction(async (tx) => {
        runs++;
        await tx.$executeRaw`UPDATE partner SET country = 'BE' WHERE id = ${b.partnerId}::uuid`;
        if (runs === 1) await tx.$queryRaw`SELECT 1 FROM partner WHERE id = ${a.partnerId}::uuid FOR UPDATE`;
        return 'done';
      });
      await waitForLockWait(admin);
      await admin.query('SELECT 1 FROM partner WHERE id = $1 FOR UPDATE', [b.partnerId]);
      await admin.query('COMMIT');
      expect(await running).toBe('done');
    } finally {
      await admin.end();
    }
    expect(runs).toBe(2);
    expect(await t.prisma.partner.findUniqueOrThrow({ where: { id: b.partnerId } })).toMatchObject({ country: 'BE' });
  });
});

async function waitForLockWait(holder: { query: (q: string) => Promise<{ rows: unknown[] }> }): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await holder.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if (rows.length) return;
    if (Date.now() > deadline) throw new Error('no session started waiting for the lock');
    await new Promise((r) => setTimeout(r, 20));
  }
}
