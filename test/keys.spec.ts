import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { CLI_COMMANDS, type CliIo } from '../src/cli.commands.js';
import { seal } from '../src/common/crypto.js';
import { Keyring, keyId } from '../src/common/keyring.js';
import { systemContext } from '../src/common/request-context.js';
import { DeliveryService } from '../src/delivery/delivery.service.js';
import { KeyRotationRepository } from '../src/keys/key-rotation.repository.js';
import { KeyRotationService } from '../src/keys/key-rotation.service.js';
import { SEALED_COLUMNS } from '../src/keys/sealed-columns.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { SigningKeysService } from '../src/oauth/signing-keys.service.js';
import { basic, form, FORM_HEADERS, issueCredential } from './support/credentials.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { deliveryInput, linkTokenFrom, useTestSecrets } from './support/delivery-harness.js';
import { Browser, enrolledStaff, signIn } from './support/staff.helpers.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';

let db: TestDatabase;
let smtp: FakeSmtp;
const apps: TestApp[] = [];
const dbs: TestDatabase[] = [];
const b64 = (k: Buffer) => k.toString('base64');

beforeAll(async () => {
  smtp = await FakeSmtp.start();
});
beforeEach(async () => {
  db = await createTestDatabase();
  dbs.push(db);
});
afterAll(async () => {
  for (const a of apps.reverse()) await a.close();
  await smtp?.stop();
  for (const d of dbs) await d.drop();
});

/** One instance of the service on this test's database with the given keys. */
async function instance(env: Record<string, string>): Promise<TestApp> {
  const a = await startTestApp({ db, env: { SMTP_URL: smtp.url, ...env } });
  apps.push(a);
  return a;
}

function fakeIo(): { io: CliIo; out: () => string } {
  let out = '';
  const stdout = new Writable({
    write(chunk, _e, cb) {
      out += String(chunk);
      cb();
    },
  });
  return { io: { stdout, stdin: Readable.from([]) }, out: () => out };
}

const tokenFor = (a: TestApp, clientId: string, secret: string) =>
  a.inject({
    method: 'POST',
    url: '/oauth/acceptance/token',
    headers: { ...FORM_HEADERS, authorization: basic(clientId, secret) },
    payload: form({ grant_type: 'client_credentials' }),
  });
const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;

async function sealedValues(_a: TestApp): Promise<Array<{ table: string; id: string; sealed: string; aad: string }>> {
  const admin = await db.admin();
  try {
    const out = [];
    for (const c of SEALED_COLUMNS) {
      const rows = (await admin.query(`SELECT ${c.idColumn}::text AS id, ${c.column} AS sealed FROM ${c.table} WHERE ${c.column} IS NOT NULL`)).rows as Array<{
        id: string;
        sealed: string;
      }>;
      out.push(...rows.map((r) => ({ table: c.table, id: r.id, sealed: r.sealed, aad: c.aad(r.id) })));
    }
    return out;
  } finally {
    await admin.end();
  }
}

describe('MASTER_KEY rotation', () => {
  it('re-seals every sealed value under the new key online, in audited batches; old-format values read; the old key can then go', async () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const hashKey = b64(randomBytes(32));
    const a = await instance({ MASTER_KEY: b64(k1), SECRET_HASH_KEY: hashKey });
    // Sealed values of every kind: signing keys (made at start), a TOTP seed, a delivery's code seed, queued payloads.
    expect(await CLI_COMMANDS.find((c) => c.name === 'staff:create')!.run(a.app, { email: 'ops@example.com', role: 'admin' }, fakeIo().io)).toBe(0);
    const cred = await issueCredential(a);
    const deliveries = a.app.get(DeliveryService);
    const input = deliveryInput('keys-test');
    useTestSecrets(deliveries, 'keys-test');
    await a.prisma.transaction((tx) => deliveries.create(tx, systemContext(), input));
    // An onboarding request's sealed status token (sent again with later emails).
    await a.app.get(OnboardingService).submit(systemContext(), {
      partner: { legalName: 'Sealed Status B.V.', registrationNumber: '55443322', country: 'NL', businessRepresentative: null },
      contact: { name: 'Sam Sealed', email: 'sam@sealed.example', mobile: '+31687654321' },
      language: 'en',
      purpose: 'A request whose status link is kept sealed.',
      items: [{ api: 'business', environment: 'acceptance' }],
    });
    const notifications = a.app.get(NotificationsService);
    const to = (i: number) => `queued-${i}@partner.example`;
    const QUEUED = 5;
    for (let i = 0; i < QUEUED; i++) {
      await a.prisma.transaction((tx) =>
        notifications.enqueueEmail(tx, {
          to: to(i),
          template: 'onboarding-received',
          language: 'en',
          idempotencyKey: `keys-test:${i}`,
          data: {
            reference: `OB-${i}`,
            contactName: 'Jan',
            partnerName: 'Acme',
            items: [{ apiName: 'Business API', environmentLabel: 'Acceptance' }],
            statusUrl: 'http://localhost/x',
          },
        }),
      );
    }
    // Bulk: queued payloads enough to measure a re-seal rate; 50 of them sealed the way values were before
    // key ids existed (v1, no key id).
    const BULK = 3000;
    const bulk = Array.from({ length: BULK }, (_, i) => {
      const id = randomUUID();
      const plain = JSON.stringify({ to: `bulk-${i}@partner.example`, data: { reference: `OB-${i}` } });
      const payloadEnc = i < 50 ? seal(k1, plain, `notification:${id}`) : a.config.masterKeys.seal(plain, `notification:${id}`);
      return {
        id,
        idempotencyKey: `keys-bulk:${i}`,
        channel: 'email' as const,
        template: 'onboarding-received',
        language: 'en' as const,
        recipientMasked: 'b•••@partner.example',
        payloadEnc,
      };
    });
    await a.prisma.notification.createMany({ data: bulk });
    const before = await sealedValues(a);
    expect(new Set(before.map((v) => v.table))).toEqual(new Set(SEALED_COLUMNS.map((c) => c.table).filter((t) => t !== 'staff_pending_login')));
    expect(before.filter((v) => v.sealed.startsWith('v1.'))).toHaveLength(50);
    expect(before.filter((v) => Keyring.idOf(v.sealed) === keyId(k1))).toHaveLength(before.length - 50);

    // The new key is current, the old one kept for reading; the service keeps working through the re-seal.
    const b = await instance({ MASTER_KEY: b64(k2), MASTER_KEY_PREVIOUS: b64(k1), SECRET_HASH_KEY: hashKey });
    expect((await tokenFor(b, cred.clientId, cred.secret)).statusCode).toBe(200);
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        const res = await tokenFor(b, cred.clientId, cred.secret);
        if (res.statusCode === 200) served++;
        else failures.push(`${res.statusCode} ${res.body}`);
      }
    })();
    const cli = fakeIo();
    const exit = await CLI_COMMANDS.find((c) => c.name === 'keys:rotate')!.run(b.app, { 'batch-size': '500' }, cli.io);
    stop = true;
    await traffic;
    expect(exit, cli.out()).toBe(0);
    expect(failures).toEqual([]);
    const m = /re-sealed (\d+) values under key (\w+) in (\d+) batches, (\d+) ms \((\d+)\/s\)/.exec(cli.out())!;
    expect(Number(m[1])).toBe(before.length);
    expect(m[2]).toBe(keyId(k2));
    expect(Number(m[3])).toBeGreaterThan(before.length / 500);
    process.stdout.write(
      `[proof] key rotation: re-sealed ${m[1]} values in ${m[3]} batches of <= 500 in ${m[4]} ms (${m[5]} values/s) while ${served} token requests were ` +
        `served, 0 failed\n`,
    );

    const after = await sealedValues(b);
    expect(after.every((v) => Keyring.idOf(v.sealed) === keyId(k2))).toBe(true);
    const audit = await b.prisma.auditEvent.findMany({ where: { action: 'keys.resealed' } });
    expect(audit.reduce((n, e) => n + (e.detail as { count: number }).count, 0)).toBe(before.length);
    expect((await b.app.get(KeyRotationService).status()).masterKey.notCurrent).toBe(0);

    // The old key is gone from the configuration: everything still opens, signs and sends.
    const c = await instance({ MASTER_KEY: b64(k2), SECRET_HASH_KEY: hashKey });
    for (const v of after) expect(() => c.config.masterKeys.open(v.sealed, v.aad)).not.toThrow();
    expect((await tokenFor(c, cred.clientId, cred.secret)).statusCode).toBe(200);
    await c.app.get(NotificationsService).drain({ includeDelayed: true });
    expect(smtp.to(to(0))).toHaveLength(1);
    expect(smtp.to(to(QUEUED - 1))).toHaveLength(1);
    for (const x of [b, c]) await x.close();
    apps.splice(apps.indexOf(b), 1);
    apps.splice(apps.indexOf(c), 1);
  }, 180_000);
});

describe('MASTER_KEY rotation over a table larger than a batch', () => {
  it('walks each table once in id order (a batch does not re-read rows done before it) and re-seals rows that change between batches', async () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const hashKey = b64(randomBytes(32));
    const a = await instance({ MASTER_KEY: b64(k1), SECRET_HASH_KEY: hashKey });
    const row = (i: number, id = randomUUID()) => ({
      id,
      idempotencyKey: `keys-walk:${i}`,
      channel: 'email' as const,
      template: 'onboarding-received',
      language: 'en' as const,
      recipientMasked: 'w•••@partner.example',
      payloadEnc: a.config.masterKeys.seal(JSON.stringify({ to: `walk-${i}@partner.example` }), `notification:${id}`),
    });
    const ROWS = 400;
    const BATCH = 25;
    await a.prisma.notification.createMany({ data: Array.from({ length: ROWS }, (_, i) => row(i)) });

    const b = await instance({ MASTER_KEY: b64(k2), MASTER_KEY_PREVIOUS: b64(k1), SECRET_HASH_KEY: hashKey });
    const notification = SEALED_COLUMNS.find((c) => c.table === 'notification')!;
    const repo = b.app.get(KeyRotationRepository);
    const fetched: number[] = [];
    let batches = 0;
    let behind: string | null = null;
    const report = await b.app.get(KeyRotationService).reseal({
      batchSize: BATCH,
      onBatch: async ({ table, after }) => {
        if (table !== 'notification' || after === null || ++batches !== 8) return;
        // Halfway through the first pass: how many rows does the next batch read to find its 25? Index scans only,
        // so the count is the rows the scan visits, not whatever a sequential scan of a small table happens to read.
        fetched.push(
          await b.prisma.transaction(async (tx) => {
            // The backend's own counters, not yet flushed (they may hold earlier transactions' reads: take the difference).
            const read = async () =>
              Number(
                (
                  await tx.$queryRawUnsafe<Array<{ n: bigint }>>(
                    `SELECT (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::bigint AS n FROM pg_stat_xact_user_tables WHERE relname = 'notification'`,
                  )
                )[0].n,
              );
            await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
            const before = await read();
            const rows = await repo.lockStale(tx, notification, b.config.masterKeys.currentId, BATCH, after);
            expect(rows.every((r) => r.id > after!)).toBe(true);
            return (await read()) - before;
          }),
        );
        // Rows change between batches: an instance still on the old key writes a row behind the batch, and
        // rewrites one the pass has done; a row ahead is deleted.
        behind = '00000000-0000-4000-8000-000000000001';
        await a.prisma.notification.create({ data: row(ROWS, behind as `${string}-${string}-${string}-${string}-${string}`) });
        const done = await a.prisma.notification.findFirstOrThrow({ where: { id: { lt: after, not: behind } }, orderBy: { id: 'desc' } });
        await a.prisma.notification.update({
          where: { id: done.id },
          data: { payloadEnc: seal(k1, JSON.stringify({ to: 'rewritten@partner.example' }), `notification:${done.id}`) },
        });
        await a.prisma.notification.delete({ where: { id: (await a.prisma.notification.findFirstOrThrow({ where: { id: { gt: after } } })).id } });
      },
    });
    expect(behind).not.toBeNull();
    expect(fetched[0]).toBeLessThanOrEqual(2 * BATCH);
    expect(report.unreadable).toEqual([]);
    const after = await sealedValues(b);
    expect(after.filter((v) => v.table === 'notification')).toHaveLength(ROWS);
    expect(after.every((v) => Keyring.idOf(v.sealed) === keyId(k2))).toBe(true);
    expect((await b.app.get(KeyRotationService).status()).masterKey.notCurrent).toBe(0);
  }, 120_000);
});

describe('SECRET_HASH_KEY rotation', () => {
  it('keeps secrets hashed under the old key valid, re-hashes each on its next use, and then works without the old key', async () => {
    const master = b64(randomBytes(32));
    const h1 = randomBytes(32);
    const h2 = randomBytes(32);
    const a = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h1) });
    const used = await issueCredential(a);
    const unused = await issueCredential(a);
    expect((await tokenFor(a, used.clientId, used.secret)).statusCode).toBe(200);

    // Without the old key, the old hashes match nothing: why the old key is kept for a while.
    const without = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h2) });
    expect((await tokenFor(without, used.clientId, used.secret)).statusCode).toBe(401);

    const b = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h2), SECRET_HASH_KEY_PREVIOUS: b64(h1) });
    const status = () => b.app.get(KeyRotationService).status();
    const ours = (s: Awaited<ReturnType<typeof status>>) => s.secretHashKey.clientSecretsByKey;
    const before = await status();
    expect(ours(before)[keyId(h1)]).toBeGreaterThanOrEqual(2);
    expect((await tokenFor(b, used.clientId, used.secret)).statusCode).toBe(200);
    // Re-hashed after the answer, once.
    const rehashed = async (secretId: string) => {
      const deadline = Date.now() + 10_000;
      let row = await b.prisma.credentialSecret.findUniqueOrThrow({ where: { id: secretId } });
      while (row.secretHashKid !== keyId(h2) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        row = await b.prisma.credentialSecret.findUniqueOrThrow({ where: { id: secretId } });
      }
      return row.secretHashKid;
    };
    expect(await rehashed(used.secretId)).toBe(keyId(h2));
    expect((await b.prisma.credentialSecret.findUniqueOrThrow({ where: { id: unused.secretId } })).secretHashKid).toBe(keyId(h1));
    expect((await tokenFor(b, used.clientId, used.secret)).statusCode).toBe(200);
    expect((await tokenFor(b, unused.clientId, unused.secret)).statusCode).toBe(200);
    expect(await rehashed(unused.secretId)).toBe(keyId(h2));
    const after = await status();
    expect(after.secretHashKey.current).toBe(keyId(h2));
    expect(after.secretHashKey.notCurrent).toBe(before.secretHashKey.notCurrent - 2);

    const c = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h2) });
    expect((await tokenFor(c, used.clientId, used.secret)).statusCode).toBe(200);
    expect((await tokenFor(c, unused.clientId, unused.secret)).statusCode).toBe(200);
    for (const x of [a, without, b, c]) {
      await x.close();
      apps.splice(apps.indexOf(x), 1);
    }
  });
});

describe('SECRET_HASH_KEY rotation: links and codes made before it', () => {
  it('delivery links, status links and recovery codes made under the old key work while it is kept; a status link is re-hashed on use', async () => {
    const master = b64(randomBytes(32));
    const h1 = randomBytes(32);
    const h2 = randomBytes(32);
    const a = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h1) });
    const admin = await enrolledStaff(a, 'admin');
    const staff = await createStaffWithSession(a, { role: 'reviewer' });
    const request = await a.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: staff.headers,
      payload: {
        partner: { legalName: 'Sleutel B.V.', registrationNumber: '12345678', country: 'NL' },
        contact: { name: 'Jan Smit', email: 'jan@sleutel.example', mobile: '+31612345678' },
        language: 'en',
        purpose: 'Employees order lunch through our app and pay with their cafetaria budget.',
        items: [{ api: 'cafetariaplan', environment: 'acceptance' }],
      },
    });
    expect(request.statusCode, request.body).toBe(201);
    const statusPath = new URL(request.json().statusUrl as string).pathname;
    const input = deliveryInput('keys-links');
    useTestSecrets(a.app.get(DeliveryService), 'keys-links');
    await a.prisma.transaction((tx) => a.app.get(DeliveryService).create(tx, systemContext(), input));
    await a.app.get(NotificationsService).drain();
    const link = linkTokenFrom(smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'))!.text);

    const lookup = (x: TestApp) => x.inject({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: link }, remoteAddress: '198.51.100.90' });
    const withoutOld = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h2) });
    expect((await lookup(withoutOld)).statusCode).toBe(404);
    expect((await withoutOld.inject({ method: 'GET', url: statusPath })).statusCode).toBe(404);

    const b = await instance({ MASTER_KEY: master, SECRET_HASH_KEY: b64(h2), SECRET_HASH_KEY_PREVIOUS: b64(h1) });
    expect((await lookup(b)).statusCode).toBe(200);
    expect((await b.inject({ method: 'GET', url: statusPath })).statusCode).toBe(200);
    // Opened once with both keys configured, the status link was re-hashed: it works without the old key now.
    expect((await withoutOld.inject({ method: 'GET', url: statusPath })).statusCode).toBe(200);
    const signedIn = await signIn(b, new Browser(b), admin, admin.recoveryCodes[0]);
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe('/console');
    for (const x of [a, withoutOld, b]) {
      await x.close();
      apps.splice(apps.indexOf(x), 1);
    }
  });
});

describe('withdrawing a signing key', () => {
  it('takes it out of the JWKS and out of signing at once, and its tokens are inactive at introspection, on every instance', async () => {
    const env = { MASTER_KEY: b64(randomBytes(32)), SECRET_HASH_KEY: b64(randomBytes(32)) };
    const a = await instance(env);
    const b = await instance(env);
    const cred = await issueCredential(a);
    const before = (await tokenFor(a, cred.clientId, cred.secret)).json().access_token as string;
    const onB = (await tokenFor(b, cred.clientId, cred.secret)).json().access_token as string;
    const kid = kidOf(before);
    expect(kidOf(onB)).toBe(kid);
    const introspect = (x: TestApp, token: string) =>
      x
        .inject({
          method: 'POST',
          url: '/oauth/acceptance/introspect',
          headers: { ...FORM_HEADERS, authorization: basic(cred.clientId, cred.secret) },
          payload: form({ token }),
        })
        .then((r) => r.json().active as boolean);
    expect(await introspect(a, before)).toBe(true);
    expect(await introspect(b, before)).toBe(true);

    const reviewer = await createStaffWithSession(a, { role: 'reviewer' });
    const refused = await a.inject({
      method: 'POST',
      url: `/api/signing-keys/${kid}/withdraw`,
      headers: reviewer.headers,
      payload: { reason: 'key material copied to a laptop' },
    });
    expect(refused.statusCode).toBe(403);
    const admin = await createStaffWithSession(a, { role: 'admin' });
    const res = await a.inject({
      method: 'POST',
      url: `/api/signing-keys/${kid}/withdraw`,
      headers: admin.headers,
      payload: { reason: 'key material copied to a laptop' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const withdrawnAt = Date.now();
    expect(res.json()).toMatchObject({ kid, environment: 'acceptance' });
    expect(res.json().signingKid).not.toBe(kid);

    const jwks = (await a.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);
    expect(await introspect(a, before)).toBe(false);
    expect(await introspect(b, onB)).toBe(false);
    const next = (await tokenFor(a, cred.clientId, cred.secret)).json().access_token as string;
    expect(kidOf(next)).toBe(res.json().signingKid);
    expect(await introspect(a, next)).toBe(true);
    // The other instance stops signing with it within its check interval.
    let kidOnB = kid;
    while (kidOnB === kid && Date.now() - withdrawnAt < 10_000) {
      kidOnB = kidOf((await tokenFor(b, cred.clientId, cred.secret)).json().access_token as string);
      if (kidOnB === kid) await new Promise((r) => setTimeout(r, 100));
    }
    const took = Date.now() - withdrawnAt;
    expect(kidOnB).not.toBe(kid);
    process.stdout.write(
      `[proof] signing key withdrawal: gone from the JWKS and inactive at introspection at once; the second instance stopped signing with it after ` +
        `${took} ms\n`,
    );
    const audit = await a.prisma.auditEvent.findFirstOrThrow({ where: { action: 'oauth.signing_key_withdrawn', subjectId: kid } });
    expect(audit.actorId).toBe(admin.staffId);

    // The CLI does the same; a second withdrawal of the same key is a 404.
    const cli = fakeIo();
    expect(await CLI_COMMANDS.find((c) => c.name === 'signing-key:withdraw')!.run(a.app, { kid: kidOf(next), reason: 'drill' }, cli.io)).toBe(0);
    expect(cli.out()).toMatch(new RegExp(`withdrawn ${kidOf(next)} \\(acceptance\\); now signing with \\S+`));
    expect(await introspect(a, next)).toBe(false);
    const again = await a.inject({ method: 'POST', url: `/api/signing-keys/${kid}/withdraw`, headers: admin.headers, payload: { reason: 'twice' } });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('signing_key/not_found');
  });
});

describe('a withdrawn signing key on an instance whose clock lags', () => {
  it('is neither used to sign nor published there', async () => {
    const env = { MASTER_KEY: b64(randomBytes(32)), SECRET_HASH_KEY: b64(randomBytes(32)) };
    const a = await instance(env);
    const cred = await issueCredential(a);
    const kid = kidOf((await tokenFor(a, cred.clientId, cred.secret)).json().access_token as string);
    a.clock.advance(10 * 60_000);
    await a.app.get(SigningKeysService).withdraw(systemContext(), kid, 'key material copied to a laptop');
    // Five minutes behind the instance that withdrew it: the withdrawal's times still lie ahead here.
    const b = await instance(env);
    b.clock.set(new Date(a.clock.now().getTime() - 5 * 60_000));
    const res = await tokenFor(b, cred.clientId, cred.secret);
    expect(res.statusCode, res.body).toBe(200);
    expect(kidOf(res.json().access_token as string)).not.toBe(kid);
    const jwks = (await b.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);
  });
});
