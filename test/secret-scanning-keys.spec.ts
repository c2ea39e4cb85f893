import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyObject } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { basic, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';
import { KeyServer, signAlert } from './support/fake-github-keys.js';

/**
 * GitHub's key server down, failing or hanging: an alert is answered with a retryable 503 (GitHub retries
 * 5xx), nothing is revoked without a verified signature, and the next alert once the server is back works.
 */
let keyServer: KeyServer;
let t: TestApp;

beforeAll(async () => {
  keyServer = await KeyServer.start();
  keyServer.mode = 'reset';
  t = await startTestApp({
    env: { SECRET_SCANNING_ENABLED: 'true', SECRET_SCANNING_KEYS_URL: keyServer.url, SECRET_SCANNING_KEY_REFRESH_SECONDS: '60' },
  });
});
afterAll(async () => {
  const verify = await t?.app.get(AuditService).verify();
  await t?.close();
  await keyServer?.stop();
  expect(verify?.ok).toBe(true);
});

const leakOf = (c: IssuedCredential) =>
  JSON.stringify([{ token: c.secret, type: 'cbsk_client_secret', url: 'https://github.com/o/r/blob/x', source: 'content' }]);
const alert = (body: string, key: { id: string; privateKey: KeyObject } = keyServer.keys.at(-1)!) =>
  t.inject({ method: 'POST', url: '/secret-scanning/github', headers: signAlert(body, key), payload: body });
const tokenWorks = async (c: IssuedCredential) =>
  (
    await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
      payload: 'grant_type=client_credentials',
    })
  ).statusCode === 200;

async function expectRetryableAndNothingRevoked(c: IssuedCredential, key: { id: string; privateKey: KeyObject } = keyServer.keys.at(-1)!) {
  const res = await alert(leakOf(c), key);
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toBeDefined();
  expect(res.json()).toMatchObject({ code: 'secret_scanning/keys_unavailable', correlationId: expect.any(String) });
  expect(res.body).not.toContain(c.secret);
  expect(await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: c.secretId } })).toMatchObject({ state: 'active' });
  expect(await t.prisma.secretLeakReport.count({ where: { credentialId: c.credentialId } })).toBe(0);
  expect(await tokenWorks(c)).toBe(true);
}

describe('the key server down', () => {
  it('before any key was read: 503 to retry, nothing revoked; once it is back the next alert revokes', async () => {
    const c = await issueCredential(t);
    await expectRetryableAndNothingRevoked(c);
    // Within the refresh interval the server is not asked again, and the answer stays retryable.
    const hits = keyServer.hits;
    await expectRetryableAndNothingRevoked(c);
    expect(keyServer.hits).toBe(hits);

    keyServer.mode = 'error';
    t.clock.advance(61_000);
    await expectRetryableAndNothingRevoked(c);

    keyServer.mode = 'up';
    t.clock.advance(61_000);
    const res = await alert(leakOf(c));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()[0]).toMatchObject({ label: 'true_positive' });
    expect(await tokenWorks(c)).toBe(false);
  });

  it('GitHub rotated its key while the server is down: the unknown key id is a 503 to retry, not a 401 that GitHub would not retry', async () => {
    const c = await issueCredential(t);
    const rotated = keyServer.addKey();
    keyServer.mode = 'reset';
    t.clock.advance(61_000);
    await expectRetryableAndNothingRevoked(c, rotated);

    keyServer.mode = 'up';
    t.clock.advance(61_000);
    const res = await alert(leakOf(c), rotated);
    expect(res.statusCode, res.body).toBe(200);
    expect(await tokenWorks(c)).toBe(false);
  });

  it('a key server that never answers: the alert gets its 503 within the read timeout, and the process keeps serving', async () => {
    const c = await issueCredential(t);
    const rotated = keyServer.addKey();
    keyServer.mode = 'hang';
    t.clock.advance(61_000);
    const started = Date.now();
    await expectRetryableAndNothingRevoked(c, rotated);
    const took = Date.now() - started;
    process.stdout.write(`[keys] alert answered 503 after ${took} ms while the key server hung\n`);
    expect(took).toBeLessThan(15_000);
    expect((await t.inject({ method: 'GET', url: '/health' })).statusCode).toBeLessThan(500);

    keyServer.mode = 'up';
    t.clock.advance(61_000);
    expect((await alert(leakOf(c), rotated)).statusCode).toBe(200);
  }, 30_000);
});
