import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { CredentialsService } from '../src/credentials/credentials.service.js';
import { systemContext } from '../src/common/request-context.js';
import { FailureLimiter } from '../src/oauth/failure-limiter.js';
import { SigningKeysService } from '../src/oauth/signing-keys.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { sparePort } from './support/net.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';

let t: TestApp;
let base: string;
let acc: IssuedCredential;

beforeAll(async () => {
  const port = await sparePort();
  base = `http://127.0.0.1:${port}`;
  // Refused guesses are written by the test's own flush() calls, never by the timer in between.
  t = await startTestApp({
    env: {
      PUBLIC_BASE_URL: base,
      OAUTH_FAILURES_PER_CLIENT: '5',
      OAUTH_FAILURES_PER_IP: '1000',
      OAUTH_FAILURE_FLUSH_MS: '600000',
      STAFF_ALERT_EMAIL: 'security@example.com',
    },
  });
  await t.app.listen({ port, host: '127.0.0.1' });
  acc = await issueCredential(t);
});
afterAll(() => t?.close());

const tokenReq = (env: string, payload: Record<string, string>, headers: Record<string, string> = {}) =>
  t.inject({ method: 'POST', url: `/oauth/${env}/token`, headers: { ...FORM_HEADERS, ...headers }, payload: form(payload) });

describe('issuer metadata and keys', () => {
  it('publishes RFC 8414 metadata at the path-insertion location and the lenient one, per environment', async () => {
    for (const env of ['acceptance', 'production']) {
      const a = await t.inject({ method: 'GET', url: `/.well-known/oauth-authorization-server/oauth/${env}` });
      const b = await t.inject({ method: 'GET', url: `/oauth/${env}/.well-known/oauth-authorization-server` });
      expect(a.statusCode).toBe(200);
      expect(a.json()).toEqual(b.json());
      expect(a.json()).toMatchObject({
        issuer: `${base}/oauth/${env}`,
        token_endpoint: `${base}/oauth/${env}/token`,
        jwks_uri: `${base}/oauth/${env}/jwks`,
        introspection_endpoint: `${base}/oauth/${env}/introspect`,
        revocation_endpoint: `${base}/oauth/${env}/revoke`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    const jwksA = (await t.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json();
    const jwksP = (await t.inject({ method: 'GET', url: '/oauth/production/jwks' })).json();
    expect(jwksA.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwksA.keys[0].d).toBeUndefined();
    expect(jwksA.keys[0].kid).not.toBe(jwksP.keys[0].kid);
    expect((await t.inject({ method: 'GET', url: '/oauth/staging/jwks' })).statusCode).toBe(404);
  });
});

describe('token endpoint', () => {
  it('served without Nest, still echoes the correlation id, logs by route template and counts in metrics, secret-free', async () => {
    const correlationId = `oauth-direct-${Date.now()}`;
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret), 'x-correlation-id': correlationId },
      payload: form({ grant_type: 'client_credentials' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-correlation-id']).toBe(correlationId);
    const failed = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/introspect',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, 'wrong'), 'x-correlation-id': `${correlationId}-2` },
      payload: form({ token: 'x' }),
    });
    expect(failed.statusCode).toBe(401);
    expect(failed.headers['x-correlation-id']).toBe(`${correlationId}-2`);
    const lines = t.logs.filter((l) => l.includes(correlationId)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.route, l.status, l.correlationId])).toEqual([
      ['/oauth/:env/token', 200, correlationId],
      ['/oauth/:env/introspect', 401, `${correlationId}-2`],
    ]);
    expect(t.logs.join('\n')).not.toContain(acc.secret);
    const metrics = await t.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/http_requests_total\{method="POST",route="\/oauth\/:env\/token",status="200"\}/);
    expect(metrics.body).toMatch(/http_requests_total\{method="POST",route="\/oauth\/:env\/introspect",status="401"\}/);
  });

  it('answers a plain form request from the request hook exactly as the Fastify route answers a streamed one', async () => {
    // A body with a declared length is read by the endpoints themselves; a streamed one goes through Fastify's parser.
    const send = (streamed: boolean, payload: string, authorization: string) =>
      t.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization, 'x-correlation-id': `oauth-paths-${streamed}` },
        payload: streamed ? Readable.from([Buffer.from(payload)]) : payload,
      });
    const shape = (r: Awaited<ReturnType<typeof send>>) => {
      const { date: _d, 'x-correlation-id': id, 'content-length': _l, 'transfer-encoding': _t, connection: _c, 'keep-alive': _k, ...headers } = r.headers;
      const body = r.json() as Record<string, unknown>;
      return { status: r.statusCode, id: String(id).replace(/true|false/, ''), headers, body: { ...body, access_token: typeof body.access_token } };
    };
    // A credential of its own: the wrong secrets sent here count against that client's failure limit, not `acc`'s.
    const own = await issueCredential(t);
    const ok = form({ grant_type: 'client_credentials', scope: 'business' });
    for (const [payload, auth] of [
      [ok, basic(own.clientId, own.secret)],
      [ok, basic(own.clientId, 'wrong')],
      [form({ grant_type: 'password' }), basic(own.clientId, own.secret)],
      ['grant_type=client_credentials&scope=a&scope=b', basic(own.clientId, own.secret)],
      ['__proto__=x&grant_type=client_credentials', basic(own.clientId, own.secret)],
    ]) {
      const direct = await send(false, payload, auth);
      const streamed = await send(true, payload, auth);
      expect(shape(direct), payload).toEqual(shape(streamed));
    }
  });

  it('issues an RFC 9068 JWT with client_secret_basic, verifiable against the JWKS of the listening app', async () => {
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-correlation-id']).toBeTruthy();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'business' });
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const jwks = createRemoteJWKSet(new URL(`${base}/oauth/acceptance/jwks`));
    const { payload } = await jwtVerify(body.access_token, jwks, {
      issuer: `${base}/oauth/acceptance`,
      audience: 'https://business-api.acceptance.example.com',
      typ: 'at+jwt',
      currentDate: t.clock.now(),
    });
    expect(payload).toMatchObject({ sub: acc.clientId, client_id: acc.clientId, scope: 'business', jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('accepts client_secret_post, and a matching scope and resource', async () => {
    const res = await tokenReq('acceptance', {
      grant_type: 'client_credentials',
      client_id: acc.clientId,
      client_secret: acc.secret,
      scope: 'business',
      resource: 'https://business-api.acceptance.example.com',
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('works with a standard client library doing discovery and the client-credentials grant, unmodified', async () => {
    const issuer = new URL(`${base}/oauth/acceptance`);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    const client: oauth.Client = { client_id: acc.clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(acc.secret), new URLSearchParams({ scope: 'business' }), {
      [oauth.allowInsecureRequests]: true,
    });
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('bearer');
    expect(result.access_token).toMatch(/^ey/);
    const post = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(acc.secret), new URLSearchParams(), {
      [oauth.allowInsecureRequests]: true,
    });
    expect((await oauth.processClientCredentialsResponse(as, client, post)).access_token).toMatch(/^ey/);
  });

  it('explains request errors per RFC 6749 §5.2', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const noGrant = await tokenReq('acceptance', {}, auth);
    expect(noGrant.statusCode).toBe(400);
    expect(noGrant.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/grant_type/) });
    expect(noGrant.json().code).toBeUndefined();
    expect(noGrant.headers['cache-control']).toBe('no-store');

    const grant = await tokenReq('acceptance', { grant_type: 'password' }, auth);
    expect([grant.statusCode, grant.json().error]).toEqual([400, 'unsupported_grant_type']);

    const scope = await tokenReq('acceptance', { grant_type: 'client_credentials', scope: 'communities' }, auth);
    expect([scope.statusCode, scope.json().error]).toEqual([400, 'invalid_scope']);
    expect(scope.json().error_description).toMatch(/granted: business/);

    const aud = await tokenReq('acceptance', { grant_type: 'client_credentials', audience: 'https://communities-api.acceptance.example.com' }, auth);
    expect([aud.statusCode, aud.json().error]).toEqual([400, 'invalid_target']);
    expect(aud.json().error_description).toMatch(/business-api\.acceptance/);

    const both = await tokenReq('acceptance', { grant_type: 'client_credentials', client_secret: acc.secret }, auth);
    expect([both.statusCode, both.json().error]).toEqual([400, 'invalid_request']);

    const json = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { 'content-type': 'application/json', ...auth },
      payload: { grant_type: 'client_credentials' },
    });
    expect([json.statusCode, json.json().error]).toEqual([400, 'invalid_request']);
    expect(json.json().error_description).toMatch(/form-encoded/);

    const none = await tokenReq('acceptance', { grant_type: 'client_credentials' });
    expect([none.statusCode, none.json().error]).toEqual([401, 'invalid_client']);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('reads unknown client and wrong secret the same, with a WWW-Authenticate challenge for Basic', async () => {
    const unknown = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic('acc_AAAAAAAAAAAAAAAAAAAA', acc.secret) });
    const wrong = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret.slice(0, -2) + 'xx') });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    expect(unknown.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed: unknown client_id or wrong client_secret.' });
    expect(wrong.headers['www-authenticate']).toBe(`Basic realm="${base}/oauth/acceptance", charset="UTF-8"`);
    const post = await tokenReq('acceptance', { grant_type: 'client_credentials', client_id: acc.clientId, client_secret: 'nope' });
    expect(post.statusCode).toBe(401);
    expect(post.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses a client of the other environment and says which issuer to use', async () => {
    const prd = await issueCredential(t, { environment: 'production' });
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(prd.clientId, prd.secret) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_client');
    expect(res.json().error_description).toBe(
      `This client_id is for the Production environment, but this is the Acceptance issuer. Use issuer ${base}/oauth/production (token endpoint ` +
        `${base}/oauth/production/token).`,
    );
    const back = await tokenReq('production', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) });
    expect(back.json().error_description).toMatch(/for the Acceptance environment.*oauth\/acceptance\/token/);
    const ok = await tokenReq('production', { grant_type: 'client_credentials' }, { authorization: basic(prd.clientId, prd.secret) });
    expect(ok.statusCode).toBe(200);
    const { payload } = await jwtVerify(ok.json().access_token, createRemoteJWKSet(new URL(`${base}/oauth/production/jwks`)), {
      issuer: `${base}/oauth/production`,
      audience: 'https://business-api.example.com',
      currentDate: t.clock.now(),
    });
    expect(payload.client_id).toBe(prd.clientId);
    // An acceptance key does not verify a production token.
    await expect(
      jwtVerify(ok.json().access_token, createRemoteJWKSet(new URL(`${base}/oauth/acceptance/jwks`)), { currentDate: t.clock.now() }),
    ).rejects.toThrow();
  });

  it('says "not yet activated" only to a caller holding the undelivered secret', async () => {
    const pending = await issueCredential(t, { activate: false });
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(pending.clientId, pending.secret) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error_description).toMatch(/not been activated yet.*delivery link/);
    const guess = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(pending.clientId, 'cbsk_acc_guess') });
    expect(guess.json().error_description).toMatch(/unknown client_id or wrong client_secret/);
  });

  it('says "revoked" after staff revoke, and tokens issued before then are inactive at introspection', async () => {
    const c = await issueCredential(t);
    const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.secret) })).json().access_token;
    await t.app.get(CredentialsService).revoke({ ...systemContext(), actor: { type: 'staff', id: null } }, c.credentialId, 'leaked in a repository');
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.secret) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error_description).toMatch(/revoked/);
    // The revoked client can no longer authenticate anywhere; another client sees its token inactive.
    const own = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/introspect',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
      payload: form({ token: tok }),
    });
    expect(own.statusCode).toBe(401);
    const intro = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/introspect',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) },
      payload: form({ token: tok }),
    });
    expect(intro.json()).toEqual({ active: false });
  });
});

describe('introspection and revocation', () => {
  it('reports its own live tokens active and revoked ones inactive (RFC 7662, RFC 7009)', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token;
    const introspect = (token: string, headers = auth) =>
      t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: { ...FORM_HEADERS, ...headers }, payload: form({ token }) });
    const active = await introspect(tok);
    expect(active.statusCode).toBe(200);
    expect(active.json()).toMatchObject({
      active: true,
      client_id: acc.clientId,
      sub: acc.clientId,
      scope: 'business',
      aud: 'https://business-api.acceptance.example.com',
      iss: `${base}/oauth/acceptance`,
    });
    expect((await introspect('not-a-token')).json()).toEqual({ active: false });
    expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: FORM_HEADERS, payload: form({ token: tok }) })).statusCode).toBe(
      401,
    );

    const revoke = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/revoke',
      headers: { ...FORM_HEADERS, ...auth },
      payload: form({ token: tok, token_type_hint: 'access_token' }),
    });
    expect(revoke.statusCode).toBe(200);
    expect((await introspect(tok)).json()).toEqual({ active: false });
    // Revoking garbage is fine too (RFC 7009 §2.2).
    expect(
      (await t.inject({ method: 'POST', url: '/oauth/acceptance/revoke', headers: { ...FORM_HEADERS, ...auth }, payload: form({ token: 'garbage' }) }))
        .statusCode,
    ).toBe(200);
  });

  it("shows a client only its own tokens: another client's live token reads inactive (RFC 7662 §4)", async () => {
    const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) })).json().access_token;
    const other = await issueCredential(t);
    const res = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/introspect',
      headers: { ...FORM_HEADERS, authorization: basic(other.clientId, other.secret) },
      payload: form({ token: tok }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
    const own = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/introspect',
      headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) },
      payload: form({ token: tok }),
    });
    expect(own.json()).toMatchObject({ active: true, client_id: acc.clientId });
  });
});

describe('token revocation across instances', () => {
  it('a token revoked on one instance reads inactive on another within a second, though that one just saw it active', async () => {
    const t2 = await startTestApp({
      db: t.db,
      clock: t.clock,
      env: { PUBLIC_BASE_URL: base, SECRET_HASH_KEY: t.config.secretHashKey.toString('base64'), MASTER_KEY: t.config.masterKey.toString('base64') },
    });
    try {
      const auth = { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) };
      const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: auth.authorization })).json().access_token;
      const introspect2 = () => t2.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: tok }) });
      expect((await introspect2()).json().active).toBe(true);
      expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/revoke', headers: auth, payload: form({ token: tok }) })).statusCode).toBe(200);
      expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: tok }) })).json()).toEqual({
        active: false,
      });
      const started = Date.now();
      let active = true;
      while (active && Date.now() - started < 1000) {
        active = (await introspect2()).json().active;
        if (active) await new Promise((r) => setTimeout(r, 20));
      }
      expect(active).toBe(false);
    } finally {
      await t2.close();
    }
  });
});

describe('hostile credentials and bodies', () => {
  const endpoints = ['token', 'introspect', 'revoke'];
  const params = (ep: string): Record<string, string> => (ep === 'token' ? { grant_type: 'client_credentials' } : { token: 'x' });

  it('answers NUL and control characters in Basic or post credentials with 401 invalid_client, never 500', async () => {
    const rawBasic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
    for (const ep of endpoints) {
      const url = `/oauth/acceptance/${ep}`;
      const variants: Array<{ headers: Record<string, string>; payload: string }> = [
        { headers: { ...FORM_HEADERS, authorization: rawBasic(`acc_%00${'A'.repeat(16)}`, 'x') }, payload: form(params(ep)) },
        { headers: { ...FORM_HEADERS, authorization: rawBasic(acc.clientId, `${acc.secret}%00`) }, payload: form(params(ep)) },
        { headers: { ...FORM_HEADERS, authorization: rawBasic(`acc_\u0001${'A'.repeat(19)}`, 'x') }, payload: form(params(ep)) },
        { headers: { ...FORM_HEADERS, authorization: rawBasic(acc.clientId, 'tab%09in') }, payload: form(params(ep)) },
        { headers: FORM_HEADERS, payload: form({ ...params(ep), client_id: `acc_\u0000${'A'.repeat(19)}`, client_secret: 'x' }) },
        { headers: FORM_HEADERS, payload: `${form(params(ep))}&client_id=${encodeURIComponent(acc.clientId)}&client_secret=%00` },
        { headers: FORM_HEADERS, payload: `${form(params(ep))}&client_id=acc_%7F${'A'.repeat(19)}&client_secret=y` },
      ];
      for (const v of variants) {
        const res = await t.inject({ method: 'POST', url, ...v });
        expect([ep, res.statusCode, res.json().error], `${ep} ${v.headers.authorization ?? v.payload}: ${res.body}`).toEqual([ep, 401, 'invalid_client']);
        expect(res.headers['cache-control']).toBe('no-store');
      }
    }
    expect(t.logs.filter((l) => l.includes('oauth endpoint failed') || l.includes('unhandled error'))).toEqual([]);
  });

  it('answers body-parser failures on /oauth/* in the RFC 6749 §5.2 shape with no-store', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const cases: Array<{ what: string; url?: string; headers: Record<string, string>; payload: string; status: number }> = [
      { what: 'bad JSON', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"grant_type":', status: 400 },
      { what: 'empty JSON', headers: { ...auth, 'content-type': 'application/json' }, payload: '', status: 400 },
      { what: 'oversized body', headers: { ...auth, ...FORM_HEADERS }, payload: `grant_type=client_credentials&pad=${'p'.repeat(300 * 1024)}`, status: 413 },
      { what: 'unsupported content type', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials', status: 400 },
      { what: 'multipart', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--', status: 400 },
      { what: 'a __proto__ key in the form', headers: { ...auth, ...FORM_HEADERS }, payload: 'grant_type=client_credentials&__proto__=x', status: 400 },
      { what: 'NUL in a form parameter', headers: { ...auth, ...FORM_HEADERS }, payload: 'grant_type=client_credentials%00', status: 400 },
      { what: 'an unknown endpoint', url: '/oauth/acceptance/authorize', headers: { ...auth, ...FORM_HEADERS }, payload: 'x=1', status: 404 },
    ];
    for (const ep of endpoints) {
      for (const c of cases) {
        const res = await t.inject({ method: 'POST', url: c.url ?? `/oauth/acceptance/${ep}`, headers: c.headers, payload: c.payload });
        const where = `${ep} ${c.what}: ${res.statusCode} ${res.body.slice(0, 200)}`;
        expect(res.statusCode, where).toBe(c.status);
        expect(res.json(), where).toEqual({ error: expect.any(String), error_description: expect.any(String) });
        expect(res.headers['cache-control'], where).toBe('no-store');
        expect(res.headers.pragma, where).toBe('no-cache');
        expect(res.headers['x-correlation-id'], where).toBeTruthy();
      }
    }
  });
});

describe('rate limiting', () => {
  it('never refuses the correct secret: guessing from one address gets 429, the owner gets tokens', async () => {
    const c = await issueCredential(t);
    const guesser = { remoteAddress: '203.0.113.7' };
    const guess = (i: number) =>
      t.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization: basic(c.clientId, `wrong-${i}`) },
        payload: form({ grant_type: 'client_credentials' }),
        ...guesser,
      });
    for (let i = 0; i < 4; i++) expect((await guess(i)).statusCode).toBe(401);
    const fifth = await guess(5);
    expect(fifth.statusCode).toBe(429);
    expect(fifth.json().error).toBe('invalid_client');
    expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 6; i < 12; i++) expect((await guess(i)).statusCode).toBe(429);
    // Refused guesses cost no database write each: they are counted in memory and written in one batch.
    const counter = async () => {
      const admin = await t.db.admin();
      try {
        return (await admin.query<{ count: number }>(`SELECT count FROM oauth_failure_counter WHERE bucket = $1`, [`pair:${c.clientId} 203.0.113.7`])).rows[0]
          ?.count;
      } finally {
        await admin.end();
      }
    };
    expect(await counter()).toBe(5);
    await t.app.get(FailureLimiter).flush();
    expect(await counter()).toBe(11);
    // The owner, from the same address as the guesser and from its own, still gets tokens.
    const same = await t.inject({
      method: 'POST',
      url: '/oauth/acceptance/token',
      headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
      payload: form({ grant_type: 'client_credentials' }),
      ...guesser,
    });
    expect(same.statusCode, same.body).toBe(200);
    expect((await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.secret) })).statusCode).toBe(200);
    // A wrong secret from another address is an ordinary 401: the guesser's block is per (client_id, IP).
    expect((await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, 'typo') })).statusCode).toBe(401);

    // Staff hear of it once for the window, not per attempt.
    const alerts = await t.prisma.auditEvent.findMany({ where: { action: 'oauth.client_guessing_suspected', subjectId: c.clientId } });
    expect(alerts).toHaveLength(1);
    const mails = await t.prisma.notification.findMany({ where: { template: 'staff-oauth-guessing-alert', subjectId: c.clientId } });
    expect(mails).toHaveLength(1);

    t.clock.advance(301_000);
    expect((await guess(13)).statusCode).toBe(401);
    expect(await t.app.get(FailureLimiter).summarise()).toBeGreaterThan(0);
    const rows = await t.prisma.auditEvent.findMany({ where: { action: 'oauth.token_failures_summarised', subjectId: c.clientId } });
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatchObject({ failures: 12, reasons: { wrong_secret: 12 }, byIp: { '203.0.113.7': 11, '127.0.0.1': 1 } });
  });

  it('counts wrong-issuer attempts against nothing', async () => {
    const prd = await issueCredential(t, { environment: 'production' });
    const from = { remoteAddress: '198.51.100.9' };
    for (let i = 0; i < 8; i++) {
      const res = await t.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization: basic(prd.clientId, `wrong-${i}`) },
        payload: form({ grant_type: 'client_credentials' }),
        ...from,
      });
      expect(res.statusCode).toBe(401);
    }
    const wrongHere = await t.inject({
      method: 'POST',
      url: '/oauth/production/token',
      headers: { ...FORM_HEADERS, authorization: basic(prd.clientId, 'wrong') },
      payload: form({ grant_type: 'client_credentials' }),
      ...from,
    });
    expect(wrongHere.statusCode).toBe(401);
    const admin = await t.db.admin();
    try {
      const { rows } = await admin.query<{ bucket: string; count: number }>(
        `SELECT bucket, count FROM oauth_failure_counter WHERE bucket LIKE $1 ORDER BY bucket`,
        [`%${prd.clientId}%`],
      );
      // Only the one wrong secret at the right issuer, on the client's and the (client, IP) counter.
      expect(rows).toEqual([
        { bucket: `client:${prd.clientId}`, count: 1 },
        { bucket: `pair:${prd.clientId} 198.51.100.9`, count: 1 },
      ]);
    } finally {
      await admin.end();
    }
  });

  it('limits failures per IP for unknown clients without refusing a known client its correct secret', async () => {
    const from = { remoteAddress: '192.0.2.44' };
    const limited = await startTestApp({ env: { PUBLIC_BASE_URL: base, OAUTH_FAILURES_PER_IP: '3' } });
    try {
      const c = await issueCredential(limited);
      const call = (id: string, secret: string) =>
        limited.inject({
          method: 'POST',
          url: '/oauth/acceptance/token',
          headers: { ...FORM_HEADERS, authorization: basic(id, secret) },
          payload: form({ grant_type: 'client_credentials' }),
          ...from,
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(`acc_${String(i).padStart(20, 'Z')}`, 'x')).statusCode);
      expect(statuses).toEqual([401, 401, 429, 429]);
      expect((await call(c.clientId, c.secret)).statusCode).toBe(200);
      // Unreadable client authentication tests no secret: always 401, counted against nothing.
      const other = { remoteAddress: '192.0.2.45' };
      const unreadable = [{ authorization: 'Basic !!!' }, { authorization: basic(c.clientId, 'x\u0000') }, {}];
      const seen = [];
      for (let i = 0; i < 4; i++) {
        for (const h of unreadable)
          seen.push(
            (
              await limited.inject({
                method: 'POST',
                url: '/oauth/acceptance/token',
                headers: { ...FORM_HEADERS, ...h },
                payload: form({ grant_type: 'client_credentials' }),
                ...other,
              })
            ).statusCode,
          );
      }
      expect(seen).toEqual(Array(12).fill(401));
      const admin = await limited.db.admin();
      try {
        expect((await admin.query(`SELECT bucket FROM oauth_failure_counter WHERE bucket LIKE '%192.0.2.45%'`)).rows).toEqual([]);
      } finally {
        await admin.end();
      }
    } finally {
      await limited.close();
    }
  });
});

describe('time-dependent', () => {
  it('reads expired tokens and tokens of the other issuer as inactive', async () => {
    const auth = { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) };
    const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: auth.authorization })).json().access_token;
    const atProduction = await t.inject({ method: 'POST', url: '/oauth/production/introspect', headers: auth, payload: form({ token: tok }) });
    expect(atProduction.statusCode).toBe(401); // an acceptance client cannot even authenticate there
    expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: tok }) })).json().active).toBe(true);
    t.clock.advance(901_000);
    expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: tok }) })).json()).toEqual({
      active: false,
    });
  });

  it('rotates the signing key and keeps the old public key published until its tokens have expired', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const before = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    t.clock.advance(30 * 86_400_000 + 60_000);
    const after = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token;
    const newKid = decodeProtectedHeader(after).kid;
    expect(newKid).not.toBe(oldKid);
    const kids = (await t.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json().keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    t.clock.advance(2 * 3600_000);
    const later = (await t.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json().keys.map((k: { kid: string }) => k.kid);
    expect(later).toContain(newKid);
    expect(later).not.toContain(oldKid);
    expect(await t.prisma.auditEvent.count({ where: { action: 'oauth.signing_key_rotated', environment: 'acceptance' } })).toBe(2);
  });

  it('publishes the next key a day before it starts signing', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const keys = t.app.get(SigningKeysService);
    const current = decodeProtectedHeader((await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token).kid;
    expect(await keys.prepublishNext('acceptance')).toBeNull();
    t.clock.advance(29.5 * 86_400_000);
    const next = await keys.prepublishNext('acceptance');
    expect(next).toBeTruthy();
    expect(await keys.prepublishNext('acceptance')).toBe(next);
    const kids = (await t.inject({ method: 'GET', url: '/oauth/acceptance/jwks' })).json().keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([current, next]));
    expect(decodeProtectedHeader((await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token).kid).toBe(current);
    t.clock.advance(86_400_000);
    expect(decodeProtectedHeader((await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token).kid).toBe(next);
  });

  it('says "expired" for a secret past its lifetime', async () => {
    t.clock.advance(340 * 86_400_000);
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error_description).toMatch(/expired on \d{4}-\d{2}-\d{2}.*rotation/);
  });
});
