import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createStaffWithSession } from '../support/factories.js';
import { ensureBuilt, sharedKeys, startInstance, type Instance } from '../support/instances.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from '../support/credentials.helpers.js';

/**
 * Revocation must reach an instance whose LISTEN connection died silently. Instance 2 is the built service
 * (`node main.js`) whose listener alone goes through a TCP relay (DATABASE_LISTENER_URL) that black-holes
 * it; its pool talks to PostgreSQL directly. Instance 1 is an in-process app on the same database and keys.
 */
/** The defaults (CREDENTIAL_LISTENER_HEARTBEAT_MS, CLIENT_CACHE_MAX_AGE_SECONDS), as a deployment runs them. */
const HEARTBEAT_MS = 5000;
const MAX_AGE_S = 30;

let db: TestDatabase;
let one: TestApp;
let two: Instance;
let relay: TcpProxy;
const keys = sharedKeys();

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase();
  const pg = new URL(db.url);
  relay = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
  one = await startTestApp({ db, env: keys });
  two = await startInstance('instance-2', {
    DATABASE_URL: db.url,
    DATABASE_LISTENER_URL: relay.urlFor(db.url),
    ...keys,
  });
}, 240_000);

afterAll(async () => {
  await two?.stop();
  await one?.close();
  await relay?.stop();
  await db?.drop();
}, 60_000);

const tokenRequest = (c: IssuedCredential) => ({
  method: 'POST',
  headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
  body: 'grant_type=client_credentials',
});

async function tokenAt(inst: Instance, c: IssuedCredential): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${inst.baseUrl}/oauth/acceptance/token`, tokenRequest(c));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Whether the owner's introspection of its own token (RFC 7662 §4) says active; a revoked owner is refused (401). */
async function introspectAt(inst: Instance, owner: IssuedCredential, token: string): Promise<boolean> {
  const res = await fetch(`${inst.baseUrl}/oauth/acceptance/introspect`, {
    method: 'POST',
    headers: { ...FORM_HEADERS, authorization: basic(owner.clientId, owner.secret) },
    body: form({ token }),
  });
  if (res.status === 401) return false;
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: boolean }).active;
}

async function revokeOnOne(c: IssuedCredential): Promise<number> {
  const reviewer = await createStaffWithSession(one, { role: 'reviewer' });
  const res = await one.inject({
    method: 'POST',
    url: `/api/credentials/${c.credentialId}/revoke`,
    headers: { ...reviewer.headers, 'content-type': 'application/json', accept: 'application/json' },
    payload: JSON.stringify({ reason: 'stale revocation proof' }),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return Date.now();
}

/** Milliseconds from `since` until `check` is true, polling every 50 ms; -1 when it never is within `limitMs`. */
async function msUntil(since: number, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  while (Date.now() - since < limitMs) {
    if (await check()) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  return -1;
}

/** The value of one unlabelled metric on an instance's /metrics. */
async function metric(inst: Instance, name: string): Promise<number> {
  const text = await (await fetch(`${inst.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function waitForLog(inst: Instance, pattern: RegExp, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!inst.logs.some((l) => pattern.test(l))) {
    if (Date.now() - start > timeoutMs) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${inst.logs.slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

describe('revocation with the listener connection black-holed', () => {
  it(`instance 2 refuses a client revoked on instance 1 within the maximum age (${MAX_AGE_S} s): token and introspection`, async () => {
    const victim = await issueCredential(one);
    // Instance 2 has the client cached (token and introspection both go through its client cache).
    const first = await tokenAt(two, victim);
    expect(first.status).toBe(200);
    const accessToken = first.body.access_token as string;
    expect(await introspectAt(two, victim, accessToken)).toBe(true);
    expect((await tokenAt(two, victim)).status).toBe(200);

    relay.blackhole();
    const revokedAt = await revokeOnOne(victim);
    const [tokenMs, introspectionMs] = await Promise.all([
      msUntil(revokedAt, MAX_AGE_S * 1000 + 5000, async () => {
        const r = await tokenAt(two, victim);
        if (r.status === 200) return false;
        expect(r.status).toBe(401);
        expect(String(r.body.error_description)).toMatch(/revoked/);
        return true;
      }),
      msUntil(revokedAt, MAX_AGE_S * 1000 + 5000, async () => !(await introspectAt(two, victim, accessToken))),
    ]);
    const lostAfter = two.logs.some((l) => /credential cache listener lost/.test(l));
    process.stdout.write(
      `[proof] stale revocation: listener black-holed (heartbeat ${HEARTBEAT_MS} ms, max age ${MAX_AGE_S} s): instance 2 refused the token after ` +
        `${tokenMs} ms and answered active:false at introspection after ${introspectionMs} ms; listener declared lost: ${lostAfter}\n`,
    );
    expect(tokenMs).toBeGreaterThanOrEqual(0);
    expect(introspectionMs).toBeGreaterThanOrEqual(0);
    expect(tokenMs).toBeLessThan(MAX_AGE_S * 1000);
    expect(introspectionMs).toBeLessThan(MAX_AGE_S * 1000);
    // What operations see meanwhile.
    expect(await metric(two, 'credential_cache_listener_healthy')).toBe(0);
  }, 90_000);

  it('reconnects once the network heals, and a revocation reaches instance 2 through NOTIFY again', async () => {
    await waitForLog(two, /credential cache listener lost/, 20_000);
    const connectionsBefore = relay.connections;
    relay.restore();
    const reconnectMs = await waitForLog(two, /credential cache listener reconnected/, 20_000);
    expect(relay.connections).toBeGreaterThan(connectionsBefore);
    expect(await metric(two, 'credential_cache_listener_healthy')).toBe(1);
    expect(await metric(two, 'credential_cache_listener_lost_total')).toBeGreaterThanOrEqual(1);
    const c = await issueCredential(one);
    expect((await tokenAt(two, c)).status).toBe(200);
    const revokedAt = await revokeOnOne(c);
    const ms = await msUntil(revokedAt, 5000, async () => (await tokenAt(two, c)).status === 401);
    process.stdout.write(
      `[proof] stale revocation: listener reconnected ${reconnectMs} ms after the network healed; the next revocation was refused by instance 2 after ` +
        `${ms} ms\n`,
    );
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(1000);
  }, 60_000);
});

describe('the maximum age alone', () => {
  it('refuses a revoked client once its cached record is older than CLIENT_CACHE_MAX_AGE_SECONDS, however healthy the listener looks', async () => {
    // Issued before this instance starts listening, so no late notification of its own issuing drops it from the cache.
    const c = await issueCredential(one);
    const relay2 = await TcpProxy.start(new URL(db.url).hostname, Number(new URL(db.url).port || 5432));
    // A heartbeat too slow to notice anything within this test: only the age limit is left.
    const three = await startTestApp({
      db,
      env: { ...keys, DATABASE_LISTENER_URL: relay2.urlFor(db.url), CREDENTIAL_LISTENER_HEARTBEAT_MS: '60000', CLIENT_CACHE_MAX_AGE_SECONDS: '3' },
    });
    try {
      const token = () =>
        three.inject({
          method: 'POST',
          url: '/oauth/acceptance/token',
          headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
          payload: 'grant_type=client_credentials',
        });
      const cachedAt = Date.now();
      expect((await token()).statusCode).toBe(200);
      relay2.blackhole();
      await revokeOnOne(c);
      const ms = await msUntil(cachedAt, 10_000, async () => (await token()).statusCode === 401);
      process.stdout.write(`[proof] stale revocation: with only the 3 s maximum age to rely on, the revoked client was refused ${ms} ms after it was cached\n`);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(3000 + 1000);
    } finally {
      await three.close();
      await relay2.stop();
    }
  }, 60_000);
});
