import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { systemContext } from '../src/common/request-context.js';
import { CredentialsService } from '../src/credentials/credentials.service.js';
import { SigningKeysService } from '../src/oauth/signing-keys.service.js';
import { TokenFailureLog } from '../src/oauth/token-failure-log.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';

let t: TestApp;
let acc: IssuedCredential;
let one: StaffLogin;
let two: StaffLogin;
/** Every token and secret this file handles: none may show up in a log line or a table. */
const handled: string[] = [];

beforeAll(async () => {
  // Failure records are written by the test's own flush() calls, never by the timer in between.
  t = await startTestApp({ env: { OAUTH_FAILURE_FLUSH_MS: '600000' } });
  acc = await issueCredential(t);
  handled.push(acc.secret);
  [one, two] = await Promise.all([createStaffWithSession(t, { role: 'reviewer' }), createStaffWithSession(t, { role: 'reviewer' })]);
});
afterAll(() => t?.close());

let ipSeq = 0;
/** Each explanation from its own address, so the per-IP allowance is only tested where meant. */
const explain = (payload: Record<string, unknown>, remoteAddress = `203.0.113.${(ipSeq++ % 200) + 1}`) =>
  t.inject({ method: 'POST', url: '/api/token-explain', payload, remoteAddress });

async function tokenFor(c: { clientId: string; secret: string }, env = 'acceptance'): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: `/oauth/${env}/token`,
    headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
    payload: form({ grant_type: 'client_credentials' }),
  });
  expect(res.statusCode, res.body).toBe(200);
  const token = res.json().access_token as string;
  handled.push(token);
  return token;
}

interface Explained {
  reason: string;
  valid: boolean;
  summary: string;
  findings: Array<{ code: string; message: string }>;
  nextSteps: string[];
  token: Record<string, unknown> | null;
  urls: Record<string, unknown> | null;
  tokenLifetimeSeconds: number;
}

async function reasonOf(payload: Record<string, unknown>): Promise<{ reason: string; body: Explained }> {
  const res = await explain(payload);
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  const body = res.json<Explained>();
  return { reason: body.reason, body };
}

describe('POST /api/token-explain: one answer per reason', () => {
  it('valid: says for which API and environment, until when, and where to call', async () => {
    const token = await tokenFor(acc);
    const { reason, body } = await reasonOf({ token: `Bearer ${token}` });
    expect(reason).toBe('valid');
    expect(body.valid).toBe(true);
    expect(body.summary).toMatch(/fine for Business API in Acceptance until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(body.token).toMatchObject({
      clientId: acc.clientId,
      apiKey: 'business',
      environment: 'acceptance',
      audience: 'https://business-api.acceptance.example.com',
    });
    expect(body.urls).toMatchObject({
      environment: 'acceptance',
      issuer: 'http://localhost:3000/oauth/acceptance',
      tokenEndpoint: 'http://localhost:3000/oauth/acceptance/token',
      apiBaseUrl: expect.stringContaining('business-api'),
    });
    expect(body.tokenLifetimeSeconds).toBe(900);
    expect(JSON.stringify(body)).not.toContain(token);
  });

  it('malformed: a random string is not a JWT', async () => {
    expect((await reasonOf({ token: 'hello-this-is-not-a-token' })).reason).toBe('malformed');
    expect((await reasonOf({ token: 'a.b' })).reason).toBe('malformed');
  });

  it('client_secret: a pasted client secret (or Basic credentials) is named as such and not looked up', async () => {
    const { reason, body } = await reasonOf({ token: acc.secret });
    expect(reason).toBe('client_secret');
    expect(body.summary).toMatch(/client secret, not an access token\. Do not share it/);
    expect(body.token).toBeNull();
    expect(JSON.stringify(body)).not.toContain(acc.secret);
    expect((await reasonOf({ token: basic(acc.clientId, acc.secret) })).reason).toBe('client_secret');
  });

  it('not_signed_by_us: a JWT signed by someone else', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ client_id: acc.clientId, aud: 'https://business-api.acceptance.example.com' })
      .setProtectedHeader({ alg: 'ES256', kid: 'someone-elses-key', typ: 'at+jwt' })
      .setIssuer('http://localhost:3000/oauth/acceptance')
      .setExpirationTime('10m')
      .sign(privateKey);
    handled.push(foreign);
    const { reason, body } = await reasonOf({ token: foreign });
    expect(reason).toBe('not_signed_by_us');
    expect(body.summary).toMatch(/not one we signed/);
  });

  it('signature_invalid: a token whose claims were changed after signing', async () => {
    const token = await tokenFor(acc);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url')}.${s}`;
    handled.push(tampered);
    expect((await reasonOf({ token: tampered })).reason).toBe('signature_invalid');
  });

  it('expired: after the token lifetime on the test clock, with when and how long tokens live', async () => {
    const token = await tokenFor(acc);
    t.clock.advance(901_000);
    try {
      const { reason, body } = await reasonOf({ token });
      expect(reason).toBe('expired');
      expect(body.summary).toMatch(/expired at .* UTC, \d seconds ago\. Our tokens live 15 minutes/);
      expect(body.nextSteps.join(' ')).toContain('http://localhost:3000/oauth/acceptance/token');
    } finally {
      t.clock.advance(-901_000);
    }
  });

  it('not_yet_valid: a token read before its nbf (a clock behind)', async () => {
    const token = await tokenFor(acc);
    t.clock.advance(-120_000);
    try {
      expect((await reasonOf({ token })).reason).toBe('not_yet_valid');
    } finally {
      t.clock.advance(120_000);
    }
  });

  it('other_environment: an Acceptance token used in Production names the Production token endpoint', async () => {
    const token = await tokenFor(acc);
    const { reason, body } = await reasonOf({ token, environment: 'production' });
    expect(reason).toBe('other_environment');
    expect(body.summary).toMatch(/issued by the Acceptance issuer .* but you called Production/);
    expect(body.urls).toMatchObject({ environment: 'production', tokenEndpoint: 'http://localhost:3000/oauth/production/token' });
    expect(body.nextSteps[0]).toMatch(/prd_/);
  });

  it('wrong_audience: a Business API token used for the Communities API', async () => {
    const token = await tokenFor(acc);
    const { reason, body } = await reasonOf({ token, api: 'communities', environment: 'acceptance' });
    expect(reason).toBe('wrong_audience');
    expect(body.summary).toMatch(/for Business API .* not for Communities API/);
  });

  it('client_revoked: the client was revoked, with the date', async () => {
    const c = await issueCredential(t);
    handled.push(c.secret);
    const token = await tokenFor(c);
    await t.app.get(CredentialsService).revoke(systemContext(), c.credentialId, 'leaked in a ticket');
    const { reason, body } = await reasonOf({ token });
    expect(reason).toBe('client_revoked');
    expect(body.summary).toMatch(new RegExp(`client ${c.clientId} was revoked on \\d{4}-\\d\\d-\\d\\d`));
  });

  it('token_revoked: revoked through the revocation endpoint', async () => {
    const token = await tokenFor(acc);
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/revoke',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) },
      payload: form({ token }),
    });
    expect(res.statusCode).toBe(200);
    expect((await reasonOf({ token })).reason).toBe('token_revoked');
  });

  it('secret_replaced: once a rotation completed, a token fetched with the old secret is said to be (still) fine but its secret gone', async () => {
    const c = await issueCredential(t);
    handled.push(c.secret);
    const token = await tokenFor(c);
    t.clock.advance(1000);
    const started = await t.inject({ method: 'POST', url: `/api/credentials/${c.credentialId}/rotations`, headers: one.headers, payload: { overlapDays: 0 } });
    expect(started.statusCode, started.body).toBe(201);
    expect((await t.inject({ method: 'POST', url: `/api/rotations/${started.json().id}/approve`, headers: two.headers })).statusCode).toBe(200);
    const pending = await t.prisma.credentialSecret.findFirstOrThrow({ where: { credentialId: c.credentialId, state: 'pending_delivery' } });
    const svc = t.app.get(CredentialsService);
    handled.push(await t.prisma.transaction((tx) => svc.renewPendingSecret(tx, pending.id)));
    await t.prisma.transaction((tx) => svc.activateOnReveal(tx, systemContext(), pending.id));
    t.clock.advance(1000);
    const { reason, body } = await reasonOf({ token });
    expect(reason).toBe('valid');
    expect(body.findings.map((f) => f.code)).toEqual(['valid', 'secret_replaced']);
    expect(body.findings[1].message).toMatch(/has since been replaced; the rotation completed on .* A token does not record which secret fetched it/);
  });

  it('key_withdrawn: signed by a key we withdrew, with the date', async () => {
    const token = await tokenFor(acc);
    const kid = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid as string;
    await t.app.get(SigningKeysService).withdraw(systemContext(), kid, 'test: key compromised');
    const { reason, body } = await reasonOf({ token });
    expect(reason).toBe('key_withdrawn');
    expect(body.summary).toMatch(new RegExp(`key ${kid}, which we withdrew on \\d{4}-\\d\\d-\\d\\d`));
    expect(body.summary).not.toContain('compromised');
  });

  it('refuses bad input with a 400 and a code, without echoing it', async () => {
    const res = await explain({ token: 'x'.repeat(10_001) + 'SECRETISH' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request/validation_failed', correlationId: expect.any(String) });
    expect(res.body).not.toContain('SECRETISH');
  });
});

describe('rate limit', () => {
  it('per client IP per hour, shared by page and API, answered 429 with Retry-After and no-store', async () => {
    const limit = t.config.tokenExplain.perIpPerHour;
    t.config.tokenExplain.perIpPerHour = 3;
    try {
      const ip = '198.51.100.77';
      expect((await explain({ token: 'x.y' }, ip)).statusCode).toBe(200);
      expect((await explain({ token: 'x.y' }, ip)).statusCode).toBe(200);
      const page = await t.inject({ method: 'POST', url: '/token-explain', headers: FORM_HEADERS, payload: form({ token: 'x.y' }), remoteAddress: ip });
      expect(page.statusCode).toBe(200);
      const refused = await explain({ token: 'x.y' }, ip);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ code: 'token_explain/rate_limited' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['cache-control']).toBe('no-store');
      const refusedPage = await t.inject({ method: 'POST', url: '/token-explain', headers: FORM_HEADERS, payload: form({ token: 'x.y' }), remoteAddress: ip });
      expect(refusedPage.statusCode).toBe(429);
      expect(refusedPage.body).toContain('Too many token explanations');
      // Another address is not held to it.
      expect((await explain({ token: 'x.y' }, '198.51.100.78')).statusCode).toBe(200);
    } finally {
      t.config.tokenExplain.perIpPerHour = limit;
    }
  });
});

describe('the page', () => {
  it('explains a pasted token without echoing it back, with no-store', async () => {
    const token = await tokenFor(acc);
    const form1 = await t.inject({ method: 'GET', url: '/token-explain' });
    expect(form1.statusCode).toBe(200);
    expect(form1.body).toContain('Why was my token refused?');
    const res = await t.inject({
      method: 'POST',
      url: '/token-explain',
      headers: FORM_HEADERS,
      payload: form({ token, environment: 'production', api: '' }),
      remoteAddress: '203.0.113.250',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('data-reason="other_environment"');
    expect(res.body).toContain('http://localhost:3000/oauth/production/token');
    expect(res.body).not.toContain(token);
    const home = await t.inject({ method: 'GET', url: '/' });
    expect(home.body).toContain('href="/token-explain"');
  });
});

describe('failed token requests, recorded one by one for staff', () => {
  it('a wrong secret: the error carries the correlation id, staff find the reason by it; no secret is recorded', async () => {
    const correlationId = `partner-quoted-${Date.now()}`;
    const wrong = 'cbsk_acc_' + 'W'.repeat(43);
    handled.push(wrong);
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, wrong), 'x-correlation-id': correlationId },
      payload: form({ grant_type: 'client_credentials' }),
      remoteAddress: '192.0.2.10',
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-correlation-id']).toBe(correlationId);
    await t.app.get(TokenFailureLog).flush();

    const row = await t.prisma.oauthTokenFailure.findFirstOrThrow({ where: { correlationId } });
    expect(row).toMatchObject({
      reason: 'wrong_secret',
      status: 401,
      error: 'invalid_client',
      clientId: acc.clientId,
      environment: 'acceptance',
      ip: '192.0.2.10',
      apiKey: 'business',
      credentialId: acc.credentialId,
    });

    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const page = await t.inject({
      method: 'GET',
      url: `/console/token-failures?correlationId=${correlationId}`,
      headers: { cookie: viewer.headers.cookie, accept: 'text/html' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<code>wrong_secret</code>');
    expect(page.body).toContain(acc.clientId);
    expect(page.body).not.toContain(wrong);
    const byClient = await t.inject({
      method: 'GET',
      url: `/console/token-failures?clientId=${acc.clientId}`,
      headers: { cookie: viewer.headers.cookie, accept: 'text/html' },
    });
    expect(byClient.body).toContain(correlationId);
    const anonymous = await t.inject({ method: 'GET', url: `/console/token-failures?correlationId=${correlationId}` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('a client_id that is a pasted secret is recorded as such, not as the secret', async () => {
    const correlationId = `swapped-fields-${Date.now()}`;
    await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, 'x-correlation-id': correlationId },
      payload: form({ grant_type: 'client_credentials', client_id: acc.secret, client_secret: acc.clientId }),
    });
    await t.app.get(TokenFailureLog).flush();
    const row = await t.prisma.oauthTokenFailure.findFirstOrThrow({ where: { correlationId } });
    expect(row.clientId).toBe('[a client secret]');
  });

  it('at most TOKEN_FAILURE_RECORDS_PER_MINUTE rows per instance and minute, however many failures', async () => {
    const cap = t.config.tokenExplain.failureRecordsPerMinute;
    t.clock.advance(60_000);
    t.config.tokenExplain.failureRecordsPerMinute = 3;
    try {
      const before = await t.prisma.oauthTokenFailure.count();
      for (let i = 0; i < 8; i++) {
        await t.inject({
          method: 'POST',
          url: '/oauth/acceptance/token',
          headers: { ...FORM_HEADERS, authorization: basic('acc_unknownunknownunknow', 'nope') },
          payload: form({ grant_type: 'client_credentials' }),
          remoteAddress: `192.0.2.${100 + i}`,
        });
      }
      await t.app.get(TokenFailureLog).flush();
      expect((await t.prisma.oauthTokenFailure.count()) - before).toBe(3);
      expect((await t.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/oauth_token_failure_records_dropped_total 5/);
    } finally {
      t.config.tokenExplain.failureRecordsPerMinute = cap;
    }
  });

  it('records older than the retention period are purged by the failure housekeeping', async () => {
    const log = t.app.get(TokenFailureLog);
    await t.prisma.oauthTokenFailure.create({
      data: {
        id: crypto.randomUUID(),
        correlationId: 'old-one-123',
        occurredAt: new Date(t.clock.now().getTime() - 8 * 86_400_000),
        status: 401,
        error: 'invalid_client',
        reason: 'wrong_secret',
      },
    });
    await log.purge();
    expect(await t.prisma.oauthTokenFailure.count({ where: { correlationId: 'old-one-123' } })).toBe(0);
  });
});

describe('nothing of a token or secret is kept', () => {
  it('no token or secret this file handled appears in any log line or any table', async () => {
    const logs = t.logs.join('\n');
    for (const s of handled) expect(logs.includes(s), `log holds ${s.slice(0, 12)}…`).toBe(false);
    const tables = await t.prisma.$queryRaw<Array<{ schema: string; name: string }>>`
      SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE'`;
    let dump = '';
    for (const { schema, name } of tables) {
      const rows = await t.prisma.$queryRawUnsafe<Array<{ t: string | null }>>(`SELECT string_agg(x::text, E'\\n') AS t FROM "${schema}"."${name}" x`);
      dump += rows[0]?.t ?? '';
    }
    expect(dump.length).toBeGreaterThan(1000);
    for (const s of handled) expect(dump.includes(s), `database holds ${s.slice(0, 12)}…`).toBe(false);
  });
});
