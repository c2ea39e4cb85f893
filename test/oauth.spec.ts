import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { CredentialsService } from '../src/credentials/credentials.service.js';
import { systemContext } from '../src/common/request-context.js';
import { FailureLimiter } from '../src/oauth/failure-limiter.js';
import { SigningKeysService } from '../src/oauth/signing-keys.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { sparePort } from './support/net.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './credentials.helpers.js';

let t: TestApp;
let base: string;
let acc: IssuedCredential;

beforeAll(async () => {
  const port = await sparePort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({ env: { PUBLIC_BASE_URL: base, OAUTH_FAILURES_PER_CLIENT: '5', OAUTH_FAILURES_PER_IP: '1000' } });
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
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: `${base}/oauth/acceptance`, audience: 'https://business-api.acceptance.example.com', typ: 'at+jwt', currentDate: t.clock.now() });
    expect(payload).toMatchObject({ sub: acc.clientId, client_id: acc.clientId, scope: 'business', jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('accepts client_secret_post, and a matching scope and resource', async () => {
    const res = await tokenReq('acceptance', { grant_type: 'client_credentials', client_id: acc.clientId, client_secret: acc.secret, scope: 'business', resource: 'https://business-api.acceptance.example.com' });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('works with a standard client library doing discovery and the client-credentials grant, unmodified', async () => {
    const issuer = new URL(`${base}/oauth/acceptance`);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    const client: oauth.Client = { client_id: acc.clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(acc.secret), new URLSearchParams({ scope: 'business' }), { [oauth.allowInsecureRequests]: true });
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('bearer');
    expect(result.access_token).toMatch(/^ey/);
    const post = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(acc.secret), new URLSearchParams(), { [oauth.allowInsecureRequests]: true });
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

    const json = await t.inject({ method: 'POST', url: '/oauth/acceptance/token', headers: { 'content-type': 'application/json', ...auth }, payload: { grant_type: 'client_credentials' } });
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
      `This client_id is for the Production environment, but this is the Acceptance issuer. Use issuer ${base}/oauth/production (token endpoint ${base}/oauth/production/token).`,
    );
    const back = await tokenReq('production', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) });
    expect(back.json().error_description).toMatch(/for the Acceptance environment.*oauth\/acceptance\/token/);
    const ok = await tokenReq('production', { grant_type: 'client_credentials' }, { authorization: basic(prd.clientId, prd.secret) });
    expect(ok.statusCode).toBe(200);
    const { payload } = await jwtVerify(ok.json().access_token, createRemoteJWKSet(new URL(`${base}/oauth/production/jwks`)), { issuer: `${base}/oauth/production`, audience: 'https://business-api.example.com', currentDate: t.clock.now() });
    expect(payload.client_id).toBe(prd.clientId);
    // An acceptance key does not verify a production token.
    await expect(jwtVerify(ok.json().access_token, createRemoteJWKSet(new URL(`${base}/oauth/acceptance/jwks`)), { currentDate: t.clock.now() })).rejects.toThrow();
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
    const own = await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) }, payload: form({ token: tok }) });
    expect(own.statusCode).toBe(401);
    const intro = await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: { ...FORM_HEADERS, authorization: basic(acc.clientId, acc.secret) }, payload: form({ token: tok }) });
    expect(intro.json()).toEqual({ active: false });
  });
});

describe('introspection and revocation', () => {
  it('reports live tokens active to any client of the issuer, and revoked tokens inactive (RFC 7662, RFC 7009)', async () => {
    const auth = { authorization: basic(acc.clientId, acc.secret) };
    const tok = (await tokenReq('acceptance', { grant_type: 'client_credentials' }, auth)).json().access_token;
    const introspect = (token: string, headers = auth) => t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: { ...FORM_HEADERS, ...headers }, payload: form({ token }) });
    const active = await introspect(tok);
    expect(active.statusCode).toBe(200);
    expect(active.json()).toMatchObject({ active: true, client_id: acc.clientId, sub: acc.clientId, scope: 'business', aud: 'https://business-api.acceptance.example.com', iss: `${base}/oauth/acceptance` });
    expect((await introspect('not-a-token')).json()).toEqual({ active: false });

    const other = await issueCredential(t);
    expect((await introspect(tok, { authorization: basic(other.clientId, other.secret) })).json()).toMatchObject({ active: true, client_id: acc.clientId });
    expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/introspect', headers: FORM_HEADERS, payload: form({ token: tok }) })).statusCode).toBe(401);

    const revoke = await t.inject({ method: 'POST', url: '/oauth/acceptance/revoke', headers: { ...FORM_HEADERS, ...auth }, payload: form({ token: tok, token_type_hint: 'access_token' }) });
    expect(revoke.statusCode).toBe(200);
    expect((await introspect(tok)).json()).toEqual({ active: false });
    // Revoking garbage is fine too (RFC 7009 §2.2).
    expect((await t.inject({ method: 'POST', url: '/oauth/acceptance/revoke', headers: { ...FORM_HEADERS, ...auth }, payload: form({ token: 'garbage' }) })).statusCode).toBe(200);
  });
});

describe('rate limiting', () => {
  it('blocks a client_id after too many failures, even with the right secret, and summarises failures in the audit', async () => {
    const c = await issueCredential(t);
    for (let i = 0; i < 4; i++) {
      expect((await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, `wrong-${i}`) })).statusCode).toBe(401);
    }
    const fifth = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, 'wrong-5') });
    expect(fifth.statusCode).toBe(429);
    expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
    const right = await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.secret) });
    expect(right.statusCode).toBe(429);
    expect(right.json().error).toBe('invalid_client');
    // Other clients from the same IP are not affected.
    expect((await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(acc.clientId, acc.secret) })).statusCode).toBe(200);

    t.clock.advance(301_000);
    expect((await tokenReq('acceptance', { grant_type: 'client_credentials' }, { authorization: basic(c.clientId, c.secret) })).statusCode).toBe(200);
    expect(await t.app.get(FailureLimiter).summarise()).toBeGreaterThan(0);
    const rows = await t.prisma.auditEvent.findMany({ where: { action: 'oauth.token_failures_summarised', subjectId: c.clientId } });
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatchObject({ failures: 5, reasons: { wrong_secret: 5 } });
  });
});

describe('time-dependent', () => {
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
