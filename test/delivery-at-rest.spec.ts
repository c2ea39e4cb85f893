import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hkdfSync } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { open } from '../src/common/crypto.js';
import { systemContext } from '../src/common/request-context.js';
import { CatalogueService } from '../src/credentials/catalogue.service.js';
import { CREDENTIAL_SECRET_SUBJECT, CredentialsService } from '../src/credentials/credentials.service.js';
import { linkTokenHash, newLinkToken, openSecret, sealSecret } from '../src/delivery/delivery.crypto.js';
import { DeliveryService } from '../src/delivery/delivery.service.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { API_ENV, basic, createPartner, form, FORM_HEADERS } from './support/credentials.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { DeliveryDriver, linkTokenFrom } from './support/delivery-harness.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  drv = new DeliveryDriver(t, smtp, twilio);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

/** Issues a credential the way issuing and rotation do: a pending secret handed to delivery in one transaction. */
async function issue() {
  const svc = t.app.get(CredentialsService);
  const partner = await createPartner(t);
  const contact = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: partner.contactId } });
  return t.prisma.transaction(async (tx) => {
    const p = await svc.createPendingCredential(tx, systemContext(), {
      ...partner,
      onboardingRequestId: null,
      apiEnvironmentId: API_ENV.business.acceptance,
      environment: 'acceptance',
    });
    const { deliveryId } = await t.app.get(DeliveryService).create(tx, systemContext(), {
      subjectType: CREDENTIAL_SECRET_SUBJECT,
      subjectId: p.secretId,
      recipient: { contactId: contact.id, name: contact.name, email: contact.email, mobile: contact.mobile, language: 'en' },
      display: await t.app.get(CatalogueService).display(tx, 'Partner B.V.', p.clientId, API_ENV.business.acceptance, 'issued'),
    });
    await svc.linkDelivery(tx, p.secretId, deliveryId);
    return { ...p, deliveryId, email: contact.email, mobile: contact.mobile };
  });
}

/** Every row of every table in every schema (pg-boss's queue included), read as the superuser. */
async function copyOfDatabase(): Promise<Array<{ table: string; row: Record<string, unknown> }>> {
  const admin = await t.db.admin();
  try {
    const tables = (
      await admin.query(
        `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', ` +
          `'information_schema')`,
      )
    ).rows as Array<{ table_schema: string; table_name: string }>;
    const out: Array<{ table: string; row: Record<string, unknown> }> = [];
    for (const { table_schema, table_name } of tables) {
      const rows = (await admin.query(`SELECT * FROM "${table_schema}"."${table_name}"`)).rows as Array<Record<string, unknown>>;
      for (const row of rows) out.push({ table: `${table_schema}.${table_name}`, row });
    }
    return out;
  } finally {
    await admin.end();
  }
}

const AAD_PREFIXES = ['notification', 'delivery', 'delivery-hotp', 'staff-totp', 'staff-pending', ''];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TOKEN = /[A-Za-z0-9_-]{43}/g;

/**
 * What a thief with a copy of the database and the service's configuration can do: open every sealed value
 * with every configured key and every associated data the code could use, collect every token-shaped
 * string, and try each (and each config key) as the key of every sealed delivery secret.
 */
function attack(copy: Array<{ table: string; row: Record<string, unknown> }>): { opened: string[]; secrets: string[] } {
  const opened: string[] = [];
  const rowText = (row: Record<string, unknown>) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  for (const { row } of copy) {
    const text = rowText(row);
    const ids = [...new Set(text.match(UUID) ?? [])];
    for (const value of Object.values(row)) {
      if (typeof value !== 'string' || !/^v[12]\./.test(value)) continue;
      for (const prefix of AAD_PREFIXES) {
        for (const aad of prefix ? ids.map((id) => `${prefix}:${id}`) : ['', ...Object.values(row).filter((v): v is string => typeof v === 'string')]) {
          try {
            opened.push(t.config.masterKeys.open(value, aad).toString('utf8'));
          } catch {
            // not this one
          }
        }
      }
    }
  }
  const everything = [...copy.map((c) => rowText(c.row)), ...opened].join('\n');
  const tokens = [...new Set(everything.match(TOKEN) ?? [])];
  const secrets: string[] = [];
  for (const { table, row } of copy) {
    if (table !== 'public.delivery' || typeof row.secret_enc !== 'string') continue;
    const id = String(row.id);
    for (const token of tokens) {
      try {
        secrets.push(openSecret(token, id, row.secret_enc));
      } catch {
        // not this one
      }
    }
    for (const k of [t.config.masterKey, t.config.secretHashKey]) {
      const derived = Buffer.from(hkdfSync('sha256', k, Buffer.from(id), `delivery-secret:v1:${id}`, 32));
      for (const key of [k, derived]) {
        try {
          secrets.push(open(key, row.secret_enc, `delivery:${id}`).toString('utf8'));
        } catch {
          // not this one
        }
      }
    }
  }
  return { opened, secrets };
}

describe('a copy of the database plus the configuration, taken while a link email waits in the queue', () => {
  it('cannot open the pending secret: it does not exist until the email is sent; after the outage the link works', async () => {
    await smtp.stop();
    const issued = await issue();
    // The worker tries, SMTP refuses: the email stays queued for a retry.
    await t.app.get(NotificationsService).drain();
    const queued = await t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: `delivery:${issued.deliveryId}:link` } });
    expect(queued.status).toBe('queued');
    expect(queued.payloadEnc).not.toBeNull();

    const copy = await copyOfDatabase();
    const { opened, secrets } = attack(copy);
    // The attack does open what the configuration can open (the queued payload, the SMS code seed)...
    expect(opened.some((p) => p.includes(issued.email))).toBe(true);
    // ...but nothing in it, nor anywhere in the copy, opens a secret.
    expect(secrets).toEqual([]);
    expect(opened.join('\n')).not.toMatch(/\/delivery#/);

    await smtp.start();
    await t.app.get(NotificationsService).drain({ includeDelayed: true });
    const mails = smtp.to(issued.email).filter((m) => m.text.includes('/delivery#'));
    expect(mails).toHaveLength(1);
    const token = linkTokenFrom(mails[0].text);
    const code = await drv.code(token, issued.mobile);
    const revealed = await drv.reveal(token, code);
    expect(revealed.statusCode, revealed.body).toBe(200);
    const { clientSecret } = revealed.json() as { clientSecret: string };
    const tok = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(issued.clientId, clientSecret) },
      payload: form({ grant_type: 'client_credentials' }),
    });
    expect(tok.statusCode, tok.body).toBe(200);
    // The failed attempt made a link and a secret too; the one sent replaced them.
    const made = await t.prisma.auditEvent.findMany({ where: { action: 'delivery.link_made', subjectId: issued.secretId } });
    expect(made.map((a) => (a.detail as { replacedEarlierLink: boolean }).replacedEarlierLink)).toEqual([false, true]);
  });

  it('a link from an earlier send attempt stops working when a retry sends a new one', async () => {
    const issued = await issue();
    await t.app.get(NotificationsService).drain();
    const sent = linkTokenFrom(smtp.to(issued.email).find((m) => m.text.includes('/delivery#'))!.text);
    // What a retry does when the answer to the first send was lost.
    const retry = (await t.app.get(DeliveryService).armLink(issued.deliveryId))!.link.split('#')[1];
    const res = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token: sent }, remoteAddress: '198.51.100.77' });
    expect(res.statusCode).toBe(404);
    const code = await drv.code(retry, issued.mobile, '198.51.100.78');
    expect((await drv.reveal(retry, code, '198.51.100.78')).statusCode).toBe(200);
  });

  it('a cancelled delivery whose email had not gone out yet is never sent', async () => {
    await smtp.stop();
    const issued = await issue();
    await t.prisma.transaction((tx) => t.app.get(DeliveryService).cancel(tx, systemContext(), issued.deliveryId));
    await smtp.start();
    await t.app.get(NotificationsService).drain({ includeDelayed: true });
    expect(smtp.to(issued.email)).toHaveLength(0);
    const n = await t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: `delivery:${issued.deliveryId}:link` } });
    expect(n.status).toBe('failed');
    expect(n.payloadEnc).toBeNull();
  });

  it('a credential revoked before its link email could go out gets no email and no secret', async () => {
    await smtp.stop();
    const issued = await issue();
    await t.app.get(CredentialsService).revoke(systemContext(), issued.credentialId, 'partner left');
    await smtp.start();
    await t.app.get(NotificationsService).drain({ includeDelayed: true });
    expect(smtp.to(issued.email)).toHaveLength(0);
    expect(await t.prisma.delivery.findUniqueOrThrow({ where: { id: issued.deliveryId } })).toMatchObject({ tokenHash: null, secretEnc: null });
    expect((await t.prisma.notification.findUniqueOrThrow({ where: { idempotencyKey: `delivery:${issued.deliveryId}:link` } })).status).toBe('failed');
  });

  it('nor while the link email is being sent: the token is then only in the sending process', async () => {
    const issued = await issue();
    // An SMTP server that takes the connection and never answers: the send hangs after the link was made.
    await smtp.stop();
    const held: Socket[] = [];
    const hanging = createServer((sock) => void held.push(sock));
    await new Promise<void>((resolve) => hanging.listen(smtp.port, '127.0.0.1', resolve));
    const sending = t.app.get(NotificationsService).drain();
    const deadline = Date.now() + 20_000;
    while (!(await t.prisma.delivery.findUniqueOrThrow({ where: { id: issued.deliveryId } })).secretEnc && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    while (!held.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held.length).toBeGreaterThan(0);

    const copy = await copyOfDatabase();
    // The worst moment: the sealed secret and the token's hash are in the copy, the email not yet sent.
    expect(copy.find((c) => c.table === 'public.delivery' && c.row.id === issued.deliveryId)?.row.secret_enc).toEqual(expect.any(String));
    expect(smtp.to(issued.email)).toHaveLength(0);
    const { secrets } = attack(copy);
    expect(secrets).toEqual([]);

    for (const sock of held) sock.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
    await sending;
    await smtp.start();
    await t.app.get(NotificationsService).drain({ includeDelayed: true });
    const token = linkTokenFrom(smtp.to(issued.email).find((m) => m.text.includes('/delivery#'))!.text);
    const code = await drv.code(token, issued.mobile, '198.51.100.91');
    expect((await drv.reveal(token, code, '198.51.100.91')).statusCode).toBe(200);
  });

  it('a resend arming while a reveal or a re-delivery holds the credential and the delivery waits for them instead of deadlocking', async () => {
    const issued = await issue();
    await t.app.get(NotificationsService).drain();
    const admin = await t.db.admin();
    try {
      // What a reveal or a re-delivery holds, in the one lock order: the credential, then the delivery.
      await admin.query('BEGIN');
      await admin.query('SELECT 1 FROM credential WHERE id = $1 FOR UPDATE', [issued.credentialId]);
      const arming = t.app.get(DeliveryService).armLink(issued.deliveryId);
      await waitForLockWait(admin);
      await admin.query('SELECT 1 FROM delivery WHERE id = $1 FOR UPDATE', [issued.deliveryId]);
      await admin.query('COMMIT');
      expect(await arming).toEqual({ link: expect.stringContaining('/delivery#') });
    } finally {
      await admin.end();
    }
  });

  it('a reveal racing a resend that replaced its link gets a 4xx, not a 500, and the delivery stays pending', async () => {
    const issued = await issue();
    await t.app.get(NotificationsService).drain();
    const sent = linkTokenFrom(smtp.to(issued.email).find((m) => m.text.includes('/delivery#'))!.text);
    const code = await drv.code(sent, issued.mobile, '198.51.100.95');
    const admin = await t.db.admin();
    try {
      // A resend arms a new link while the reveal with the old one is between reading the delivery and consuming it.
      const next = newLinkToken();
      await admin.query('BEGIN');
      await admin.query('UPDATE delivery SET token_hash = $2, secret_enc = $3 WHERE id = $1', [
        issued.deliveryId,
        linkTokenHash(t.config.secretHashKey, next),
        sealSecret(next, issued.deliveryId, 'another secret'),
      ]);
      const revealing = drv.reveal(sent, code, '198.51.100.95');
      await waitForLockWait(admin);
      await admin.query('COMMIT');
      const res = await revealing;
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ code: 'delivery/not_revealed' });
    } finally {
      await admin.end();
    }
    expect(await t.prisma.delivery.findUniqueOrThrow({ where: { id: issued.deliveryId } })).toMatchObject({ state: 'pending', secretEnc: expect.any(String) });
  });
});

/** Until another session of this database waits for a row lock (the one `holder` holds). */
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
