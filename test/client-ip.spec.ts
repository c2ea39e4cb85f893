import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { basic, FORM_HEADERS } from './support/credentials.helpers.js';
import { Browser, enrolledStaff, hiddenCsrf, signIn } from './support/staff.helpers.js';
import { sharedKeys } from './support/instances.js';

/**
 * The client IP behind a reverse proxy (TRUST_PROXY): a hop count or the proxies' addresses, never the
 * whole X-Forwarded-For chain. Requests come in through `inject` with the socket address of the proxy (or
 * of a client that bypasses it) and the X-Forwarded-For chain the proxies built, with a forged entry first.
 */
const PROXY = '10.0.0.5';
const SECOND_PROXY = '10.2.2.2';
const FORGED = '6.6.6.6';

let db: TestDatabase;
let hops: TestApp;
let cidr: TestApp;
let direct: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  // One deployment's keys: the three apps share a database and its sealed signing keys.
  const keys = sharedKeys();
  hops = await startTestApp({ db, env: { ...keys, TRUST_PROXY: '1', OAUTH_FAILURES_PER_IP: '3', INTAKE_RATE_LIMIT_PER_HOUR: '2' } });
  cidr = await startTestApp({ db, env: { ...keys, TRUST_PROXY: '10.0.0.0/8, 192.0.2.7' } });
  direct = await startTestApp({ db, env: keys });
});
afterAll(async () => {
  await Promise.all([hops?.close(), cidr?.close(), direct?.close()]);
  await db?.drop();
});

/** A failed sign-in from `remoteAddress` with `xff`; returns the client IP its audit row holds. */
async function auditedIp(t: TestApp, remoteAddress: string, xff?: string): Promise<string | null> {
  const correlationId = `client-ip-${randomUUID()}`;
  const headers = { accept: 'text/html', 'x-correlation-id': correlationId, ...(xff ? { 'x-forwarded-for': xff } : {}) };
  const page = await t.inject({ method: 'GET', url: '/console/sign-in', remoteAddress, headers });
  const cookie = page.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const res = await t.inject({
    method: 'POST',
    url: '/console/sign-in',
    remoteAddress,
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: hiddenCsrf(page.body), email: `nobody-${randomUUID()}@example.com`, password: 'not-the-password' }).toString(),
  });
  expect(res.statusCode).toBe(401);
  const row = await t.prisma.auditEvent.findFirstOrThrow({ where: { correlationId, action: 'staff.sign_in_failed' }, select: { clientIp: true } });
  return row.clientIp;
}

describe('TRUST_PROXY as a hop count', () => {
  it('takes the address the proxy saw, not what the client wrote into X-Forwarded-For', async () => {
    expect(await auditedIp(hops, PROXY, '203.0.113.7')).toBe('203.0.113.7');
    expect(await auditedIp(hops, PROXY, `${FORGED}, 203.0.113.7`)).toBe('203.0.113.7');
    expect(await auditedIp(hops, PROXY)).toBe(PROXY);
  });

  it('keeps the per-IP OAuth failure limit on the real client: a forged entry does not escape it, a neighbour behind the same proxy is not hit', async () => {
    const attempt = (xff: string) =>
      hops.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        remoteAddress: PROXY,
        headers: { ...FORM_HEADERS, 'x-forwarded-for': xff, authorization: basic(`acc_${randomUUID().replace(/-/g, '')}`, 'wrong') },
        payload: 'grant_type=client_credentials',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await attempt('203.0.113.50')).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await attempt(`${FORGED}, 203.0.113.50`)).statusCode).toBe(429);
    expect((await attempt(`203.0.113.50, 203.0.113.50`)).statusCode).toBe(429);
    expect((await attempt('203.0.113.51')).statusCode).toBe(401);
  });

  it('keeps the per-IP intake limit on the real client as well', async () => {
    // Just after an hour boundary, so the hourly window cannot roll over halfway through.
    hops.clock.set(new Date(Math.ceil(hops.clock.now().getTime() / 3600_000) * 3600_000 + 60_000));
    const submit = async (xff: string) => {
      const headers = { 'x-forwarded-for': xff };
      const page = await hops.inject({ method: 'GET', url: '/apply', remoteAddress: PROXY, headers });
      const formIssuedAt = /name="formIssuedAt" value="([^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&');
      hops.clock.advance(5000);
      // Counted before the answers are checked: empty answers are enough to reach the limit.
      const res = await hops.inject({
        method: 'POST',
        url: '/apply/submit',
        remoteAddress: PROXY,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ formIssuedAt, website: '' }).toString(),
      });
      return res.statusCode;
    };
    expect([await submit('203.0.113.60'), await submit('203.0.113.60'), await submit('203.0.113.60')]).toEqual([400, 400, 429]);
    expect(await submit(`${FORGED}, 203.0.113.60`)).toBe(429);
    expect(await submit('203.0.113.61')).toBe(400);
  });
});

describe('TRUST_PROXY as addresses and CIDR ranges', () => {
  it('walks X-Forwarded-For from the right across trusted proxies only', async () => {
    expect(await auditedIp(cidr, PROXY, `${FORGED}, 203.0.113.9`)).toBe('203.0.113.9');
    // Two proxies of ours: the client is the first address that is not one of them.
    expect(await auditedIp(cidr, PROXY, `${FORGED}, 203.0.113.9, ${SECOND_PROXY}`)).toBe('203.0.113.9');
    expect(await auditedIp(cidr, '192.0.2.7', '203.0.113.10')).toBe('203.0.113.10');
  });

  it('ignores X-Forwarded-For from a client that is not one of the proxies', async () => {
    expect(await auditedIp(cidr, '198.51.100.7', FORGED)).toBe('198.51.100.7');
    expect(await auditedIp(cidr, '198.51.100.7', `${FORGED}, ${PROXY}`)).toBe('198.51.100.7');
  });
});

describe('without TRUST_PROXY', () => {
  it('uses the connection address and ignores X-Forwarded-For', async () => {
    expect(await auditedIp(direct, '198.51.100.8', FORGED)).toBe('198.51.100.8');
  });

  it('never locks out a browser that signed in before, however many sign-ins failed from the shared proxy address', async () => {
    // Everyone arrives from the proxy's address, as behind a proxy without TRUST_PROXY.
    const owner = await enrolledStaff(direct, 'viewer');
    const ownersBrowser = new Browser(direct, PROXY);
    expect((await signIn(direct, ownersBrowser, owner)).statusCode).toBe(303);
    const device = Object.entries(ownersBrowser.jar).find(([k]) => k.endsWith('staff_device'))!;
    expect(device).toBeDefined();

    const attacker = new Browser(direct, PROXY);
    const failed: number[] = [];
    for (let i = 0; i < 22; i++)
      failed.push(
        (await attacker.submit('/console/sign-in', '/console/sign-in', { email: `guess-${i}@example.com`, password: 'not-the-password' })).statusCode,
      );
    expect(failed.every((s) => s === 401)).toBe(true);
    const ipLocks = await direct.prisma.auditEvent.count({ where: { action: 'staff.sign_in_locked', clientIp: PROXY } });
    expect(ipLocks).toBeGreaterThan(0);

    // The address is locked: a colleague without a device cookie is refused, right password or not.
    direct.clock.advance(30_000);
    const colleague = await enrolledStaff(direct, 'viewer');
    expect((await signIn(direct, new Browser(direct, PROXY), colleague)).statusCode).toBe(401);

    // The owner's browser, signed out, still signs in from the same locked address.
    const returning = new Browser(direct, PROXY);
    returning.jar[device[0]] = device[1];
    const again = await signIn(direct, returning, owner);
    expect(again.statusCode, again.body.slice(0, 300)).toBe(303);
    expect(again.headers.location).toBe('/console');
    process.stdout.write(
      `[proof] client ip: ${failed.length} failed sign-ins from one proxy address locked it (${ipLocks} lock events); a browser that signed in before ` +
        `still signed in\n`,
    );
  });
});
