import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { decodeJwt } from 'jose';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { DeliveryDriver, linkTokenFrom } from './support/delivery-harness.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { basic, form, FORM_HEADERS } from './support/credentials.helpers.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let creator: StaffLogin;
let reviewer: StaffLogin;
let viewer: StaffLogin;
let admin: StaffLogin;
const plaintexts: string[] = [];

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  // Last-used times are written only when the test flushes them.
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env(), LAST_USED_FLUSH_MS: '600000' } });
  drv = new DeliveryDriver(t, smtp, twilio);
  [creator, reviewer, viewer, admin] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Creator' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Approver' }),
    createStaffWithSession(t, { role: 'viewer' }),
    createStaffWithSession(t, { role: 'admin' }),
  ]);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

let seq = 0;
const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });

async function approvedRequest(items: Array<{ api: string; environment: string }>) {
  seq += 1;
  const email = `dev${seq}-${Date.now()}@partner.example`;
  const mobile = `+316${String(20000000 + seq * 7919).slice(0, 8)}`;
  const res = await post('/api/onboarding-requests', creator, {
    partner: { legalName: `Issuer Test ${seq} B.V.`, registrationNumber: `${70000000 + seq}`, country: 'NL' },
    contact: { name: 'Dev Eloper', email, mobile },
    language: 'en',
    purpose: 'Our payroll app reads cafetaria budgets for employees of our customers.',
    items,
  });
  expect(res.statusCode, res.body).toBe(201);
  const id = res.json().id as string;
  expect((await post(`/api/onboarding-requests/${id}/start-review`, reviewer)).statusCode).toBe(200);
  for (const env of [...new Set(items.map((i) => i.environment))].sort()) {
    const a = await post(`/api/onboarding-requests/${id}/approvals`, reviewer, { environment: env });
    expect(a.statusCode, a.body).toBe(200);
  }
  return { id, email, mobile };
}

let ipSeq = 0;
/** The partner's side: the link from the email, the code from the SMS, then reveal. */
async function reveal(email: string, mobile: string, clientId: string) {
  await t.app.get(NotificationsService).drain();
  const mail = smtp
    .to(email)
    .filter((m) => m.text.includes(clientId) && m.text.includes('/delivery#'))
    .at(-1);
  if (!mail) throw new Error(`no delivery email for ${clientId}`);
  const token = linkTokenFrom(mail.text);
  const ip = `198.51.100.${(ipSeq++ % 250) + 1}`;
  const code = await drv.code(token, mobile, ip);
  const res = await drv.reveal(token, code, ip);
  expect(res.statusCode, res.body).toBe(200);
  plaintexts.push(token, code, res.json().clientSecret);
  return res.json() as { clientId: string; clientSecret: string; issuer: string; tokenEndpoint: string };
}

const token = (env: string, clientId: string, secret: string, extra: Record<string, string> = {}, app = t) =>
  app.inject({
    method: 'POST',
    url: `/oauth/${env}/token`,
    headers: { ...FORM_HEADERS, authorization: basic(clientId, secret) },
    payload: form({ grant_type: 'client_credentials', ...extra }),
  });

describe('issuing', () => {
  let issued: { credentials: Array<{ credentialId: string; clientId: string; apiName: string; deliveryId: string }> };
  let req: { id: string; email: string; mobile: string };

  it('issues one credential per approved API in the environment, pending delivery, with the environment in the client_id', async () => {
    req = await approvedRequest([
      { api: 'business', environment: 'acceptance' },
      { api: 'cafetariaplan', environment: 'acceptance' },
    ]);
    expect((await post(`/api/onboarding-requests/${req.id}/issue`, viewer, { environment: 'acceptance' })).statusCode).toBe(403);
    const res = await post(`/api/onboarding-requests/${req.id}/issue`, reviewer, { environment: 'acceptance' });
    expect(res.statusCode, res.body).toBe(201);
    issued = res.json();
    expect(issued.credentials).toHaveLength(2);
    for (const c of issued.credentials) expect(c.clientId).toMatch(/^acc_[A-Za-z0-9_-]{20}$/);
    const again = await post(`/api/onboarding-requests/${req.id}/issue`, reviewer, { environment: 'acceptance' });
    expect([again.statusCode, again.json().code]).toEqual([409, 'onboarding/already_issued']);
    const bad = await post(`/api/onboarding-requests/${req.id}/issue`, reviewer, { environment: 'staging' });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'request/validation_failed']);

    const detail = (await t.inject({ method: 'GET', url: `/api/credentials/${issued.credentials[0].credentialId}`, headers: viewer.headers })).json();
    expect(detail).toMatchObject({
      state: 'pending_delivery',
      environment: 'acceptance',
      secrets: [{ state: 'pending_delivery', hint: expect.stringMatching(/^cbsk_acc_…/) }],
    });
    expect(detail.deliveries).toEqual([expect.objectContaining({ deliveryId: issued.credentials[0].deliveryId, state: 'pending' })]);
    const audit = await t.prisma.auditEvent.findMany({
      where: { action: 'credential.issued', subjectId: { in: issued.credentials.map((c) => c.credentialId) } },
    });
    expect(audit).toHaveLength(2);
  });

  it('activates a credential only when its secret is revealed (deliver-before-activate), and the secret then works', async () => {
    const [business] = issued.credentials;
    const revealed = await reveal(req.email, req.mobile, business.clientId);
    expect(revealed.clientSecret).toMatch(/^cbsk_acc_[A-Za-z0-9_-]{43}$/);
    expect(revealed.tokenEndpoint).toBe('http://localhost:3000/oauth/acceptance/token');
    const ok = await token('acceptance', business.clientId, revealed.clientSecret);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(decodeJwt(ok.json().access_token)).toMatchObject({ aud: 'https://business-api.acceptance.example.com', client_id: business.clientId });
    const detail = (await t.inject({ method: 'GET', url: `/api/credentials/${business.credentialId}`, headers: viewer.headers })).json();
    expect(detail).toMatchObject({ state: 'active', secrets: [{ state: 'active', activatedAt: expect.any(String) }] });
    expect(detail.deliveries[0].state).toBe('revealed');
    // The other credential of the request is still waiting for its own reveal.
    const other = (await t.inject({ method: 'GET', url: `/api/credentials/${issued.credentials[1].credentialId}`, headers: viewer.headers })).json();
    expect(other.state).toBe('pending_delivery');
    expect(await t.prisma.auditEvent.count({ where: { action: 'credential.secret_activated', subjectId: business.credentialId } })).toBe(1);
  });

  it('keeps no plaintext secret anywhere in the database (pg_dump) or the logs, only an HMAC', async () => {
    expect(plaintexts.length).toBeGreaterThan(0);
    const dump = execFileSync('pg_dump', ['--data-only', t.db.url], { maxBuffer: 256 * 1024 * 1024 }).toString();
    const logs = t.logs.join('\n');
    for (const p of plaintexts) {
      expect(dump.includes(p), 'plaintext in the database').toBe(false);
      expect(logs.includes(p), 'plaintext in the logs').toBe(false);
    }
    const row = await t.prisma.credentialSecret.findFirstOrThrow({ where: { state: 'active' } });
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records last use in batches, not per request', async () => {
    const [business] = issued.credentials;
    const secret = await t.prisma.credentialSecret.findFirstOrThrow({ where: { credential: { clientId: business.clientId } } });
    expect(secret.lastUsedAt).toBeNull();
    const { ClientRegistry } = await import('../src/credentials/client-registry.js');
    await t.app.get(ClientRegistry).flushLastUsed();
    expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: secret.id } })).lastUsedAt).toBeInstanceOf(Date);
  });
});

describe('two instances on one database', () => {
  it('a revocation on one instance is refused by the other within 1 s', async () => {
    const t2 = await startTestApp({
      db: t.db,
      clock: t.clock,
      env: {
        SECRET_HASH_KEY: t.config.secretHashKey.toString('base64'),
        MASTER_KEY: t.config.masterKey.toString('base64'),
        SMTP_URL: smtp.url,
        ...twilio.env(),
      },
    });
    try {
      const r = await approvedRequest([{ api: 'communities', environment: 'acceptance' }]);
      const issued = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json();
      const c = issued.credentials[0];
      const { clientSecret } = await reveal(r.email, r.mobile, c.clientId);
      // Warm instance 2's cache.
      expect((await token('acceptance', c.clientId, clientSecret, {}, t2)).statusCode).toBe(200);
      expect((await token('acceptance', c.clientId, clientSecret, {}, t2)).statusCode).toBe(200);
      const tok = (await token('acceptance', c.clientId, clientSecret, {}, t2)).json().access_token;

      const revoked = await post(`/api/credentials/${c.credentialId}/revoke`, reviewer, { reason: 'key leaked on a public repository' });
      expect(revoked.statusCode, revoked.body).toBe(200);
      const started = Date.now();
      let status = 200;
      while (Date.now() - started < 1000) {
        const res = await token('acceptance', c.clientId, clientSecret, {}, t2);
        status = res.statusCode;
        if (status === 401) {
          expect(res.json().error_description).toMatch(/revoked/);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
      expect(Date.now() - started).toBeLessThan(1000);
      // Its token issued before is inactive at introspection on the other instance too.
      const own = await t2.inject({
        method: 'POST',
        url: '/oauth/acceptance/introspect',
        headers: { ...FORM_HEADERS, authorization: basic(c.clientId, clientSecret) },
        payload: form({ token: tok }),
      });
      expect(own.statusCode).toBe(401);
      const other = await approvedRequest([{ api: 'business', environment: 'acceptance' }]);
      const oc = (await post(`/api/onboarding-requests/${other.id}/issue`, reviewer, { environment: 'acceptance' })).json().credentials[0];
      const os = (await reveal(other.email, other.mobile, oc.clientId)).clientSecret;
      const intro = await t2.inject({
        method: 'POST',
        url: '/oauth/acceptance/introspect',
        headers: { ...FORM_HEADERS, authorization: basic(oc.clientId, os) },
        payload: form({ token: tok }),
      });
      expect(intro.json()).toEqual({ active: false });
    } finally {
      await t2.close();
    }
  });
});

describe('revocation of everything of a partner', () => {
  it('revokes every credential of the partner at once and audits it', async () => {
    const r = await approvedRequest([
      { api: 'business', environment: 'acceptance' },
      { api: 'communities', environment: 'acceptance' },
    ]);
    const issued = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json();
    const secrets: string[] = [];
    for (const c of issued.credentials) secrets.push((await reveal(r.email, r.mobile, c.clientId)).clientSecret);
    const detail = (await t.inject({ method: 'GET', url: `/api/credentials/${issued.credentials[0].credentialId}`, headers: viewer.headers })).json();
    const res = await post(`/api/partners/${detail.partnerId}/credentials/revoke`, reviewer, { reason: 'contract ended' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().revoked).toHaveLength(2);
    for (const [i, c] of issued.credentials.entries()) expect((await token('acceptance', c.clientId, secrets[i])).statusCode).toBe(401);
    expect(await t.prisma.auditEvent.count({ where: { action: 'partner.credentials_revoked', subjectId: detail.partnerId } })).toBe(1);
    const list = (await t.inject({ method: 'GET', url: `/api/credentials?partnerId=${detail.partnerId}&state=revoked`, headers: viewer.headers })).json();
    expect(list).toHaveLength(2);
  });
});

describe('revoking a partner from the console', () => {
  it('links to the confirmation from the partner-filtered list; the confirmed POST revokes everything at once', async () => {
    const r = await approvedRequest([{ api: 'cafetariaplan', environment: 'acceptance' }]);
    const c = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json().credentials[0];
    const partnerId = (await t.inject({ method: 'GET', url: `/api/credentials/${c.credentialId}`, headers: viewer.headers })).json().partnerId;
    const list = await t.inject({ method: 'GET', url: `/console/credentials?partnerId=${partnerId}`, headers: { ...reviewer.headers, accept: 'text/html' } });
    expect(list.body).toContain(`href="/console/partners/${partnerId}/credentials/revoke"`);
    const res = await t.inject({
      method: 'POST',
      url: `/console/partners/${partnerId}/credentials/revoke`,
      headers: { cookie: reviewer.headers.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: form({ _csrf: reviewer.headers['x-csrf-token'], reason: 'fraud suspected', confirm: 'yes' }),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/console/credentials?partnerId=${partnerId}&revoked=1`);
    const after = await t.inject({ method: 'GET', url: res.headers.location as string, headers: { ...reviewer.headers, accept: 'text/html' } });
    expect(after.body).toContain('1 credential of this partner revoked');
    expect((await t.prisma.credential.findUniqueOrThrow({ where: { id: c.credentialId } })).state).toBe('revoked');
  });
});

describe('API catalogue', () => {
  it('lets admins change base URL and audience; new tokens carry the new audience', async () => {
    const list = (await t.inject({ method: 'GET', url: '/api/catalogue', headers: viewer.headers })).json();
    expect(list).toHaveLength(6);
    const entry = list.find((e: { apiKey: string; environment: string }) => e.apiKey === 'cafetariaplan' && e.environment === 'acceptance');
    const payload = { baseUrl: 'https://cafetariaplan.acc.retailer.example/v2', audience: 'urn:retailer:cafetariaplan:acc' };
    expect((await t.inject({ method: 'PUT', url: `/api/catalogue/${entry.apiEnvironmentId}`, headers: reviewer.headers, payload })).statusCode).toBe(403);
    const bad = await t.inject({
      method: 'PUT',
      url: `/api/catalogue/${entry.apiEnvironmentId}`,
      headers: admin.headers,
      payload: { ...payload, baseUrl: 'ftp://nope' },
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'catalogue/invalid_url']);
    const taken = await t.inject({
      method: 'PUT',
      url: `/api/catalogue/${entry.apiEnvironmentId}`,
      headers: admin.headers,
      payload: { ...payload, audience: 'https://business-api.example.com' },
    });
    expect([taken.statusCode, taken.json().code]).toEqual([409, 'catalogue/audience_taken']);
    const ok = await t.inject({ method: 'PUT', url: `/api/catalogue/${entry.apiEnvironmentId}`, headers: admin.headers, payload });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject(payload);
    expect(await t.prisma.auditEvent.count({ where: { action: 'catalogue.updated', subjectId: entry.apiEnvironmentId } })).toBe(1);

    const r = await approvedRequest([{ api: 'cafetariaplan', environment: 'acceptance' }]);
    const c = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json().credentials[0];
    const { clientSecret } = await reveal(r.email, r.mobile, c.clientId);
    const tok = await token('acceptance', c.clientId, clientSecret);
    expect(decodeJwt(tok.json().access_token).aud).toBe('urn:retailer:cafetariaplan:acc');

    const page = await t.inject({ method: 'GET', url: '/console/catalogue', headers: { ...admin.headers, accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('urn:retailer:cafetariaplan:acc');
    const form_ = await t.inject({
      method: 'POST',
      url: `/console/catalogue/${entry.apiEnvironmentId}`,
      headers: { cookie: admin.headers.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: form({ _csrf: admin.headers['x-csrf-token'], baseUrl: 'not a url', audience: 'x-aud' }),
    });
    expect(form_.statusCode).toBe(400);
    expect(form_.body).toContain('There is a problem');
  });
});

describe('console pages', () => {
  it('lists credentials with filters, shows one with its secrets and delivery, and revokes from a form', async () => {
    const html = { ...reviewer.headers, accept: 'text/html' };
    const r = await approvedRequest([{ api: 'business', environment: 'acceptance' }]);
    const issuePage = await t.inject({ method: 'GET', url: '/console/credentials/issue', headers: html });
    expect(issuePage.statusCode).toBe(200);
    expect(issuePage.body).toContain(r.id);
    const issued = await t.inject({
      method: 'POST',
      url: '/console/credentials/issue',
      headers: { cookie: reviewer.headers.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: form({ _csrf: reviewer.headers['x-csrf-token'], requestId: r.id, environment: 'acceptance' }),
    });
    expect(issued.statusCode, issued.body).toBe(200);
    expect(issued.body).toContain('Credentials issued');
    const clientId = /<code>(acc_[A-Za-z0-9_-]{20})<\/code>/.exec(issued.body)![1];
    const list = await t.inject({ method: 'GET', url: `/console/credentials?q=${clientId}&environment=acceptance`, headers: html });
    expect(list.body).toContain(clientId);
    const id = /data-credential-id="([0-9a-f-]{36})"/.exec(list.body)![1];
    const detail = await t.inject({ method: 'GET', url: `/console/credentials/${id}`, headers: html });
    expect(detail.body).toContain('Awaiting delivery');
    expect(detail.body).toContain('https://business-api.acceptance.example.com');
    expect(detail.body).toContain('cbsk_acc_…');
    const noReason = await t.inject({
      method: 'POST',
      url: `/console/credentials/${id}/revoke`,
      headers: { cookie: reviewer.headers.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: form({ _csrf: reviewer.headers['x-csrf-token'], reason: '' }),
    });
    expect(noReason.statusCode).toBe(400);
    const revoke = await t.inject({
      method: 'POST',
      url: `/console/credentials/${id}/revoke`,
      headers: { cookie: reviewer.headers.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: form({ _csrf: reviewer.headers['x-csrf-token'], reason: 'partner asked' }),
    });
    expect(revoke.statusCode).toBe(303);
    const after = await t.inject({ method: 'GET', url: `/console/credentials/${id}?done=revoked`, headers: html });
    expect(after.body).toContain('The credential is revoked');
    const asViewer = await t.inject({ method: 'GET', url: `/console/credentials/${id}`, headers: { ...viewer.headers, accept: 'text/html' } });
    expect(asViewer.statusCode).toBe(200);
    expect(asViewer.body).not.toContain('Revoke this credential');
  });
});

describe('rotation with overlap', () => {
  const oauthPost = (path: string, clientId: string, secret: string, payload: Record<string, string>) =>
    t.inject({
      method: 'POST',
      url: `/oauth/acceptance/${path}`,
      headers: { ...FORM_HEADERS, authorization: basic(clientId, secret) },
      payload: form(payload),
    });

  /** Token, introspection and revocation must all accept (200) or all refuse (401) the secret. */
  async function everyPath(clientId: string, secret: string, expected: 200 | 401, tokenFor: string) {
    const tok = await token('acceptance', clientId, secret);
    const intro = await oauthPost('introspect', clientId, secret, { token: tokenFor });
    const rev = await oauthPost('revoke', clientId, secret, { token: 'not-a-token' });
    expect([tok.statusCode, intro.statusCode, rev.statusCode], `${tok.body} ${intro.body} ${rev.body}`).toEqual([expected, expected, expected]);
    if (expected === 401) for (const r of [tok, intro, rev]) expect(r.json().error_description).toMatch(/replaced by a newer one/);
    if (expected === 200) expect(intro.json().active).toBe(true);
  }

  it('four-eyes approval, re-delivery, both secrets on every path during the overlap, then only the new one after "end overlap now"', async () => {
    const r = await approvedRequest([{ api: 'business', environment: 'acceptance' }]);
    const c = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json().credentials[0];
    const oldSecret = (await reveal(r.email, r.mobile, c.clientId)).clientSecret;

    const started = await post(`/api/credentials/${c.credentialId}/rotations`, creator, { overlapDays: 3 });
    expect(started.statusCode, started.body).toBe(201);
    const rotationId = started.json().id;
    expect(started.json()).toMatchObject({ state: 'awaiting_approval', overlapDays: 3 });
    expect((await post(`/api/credentials/${c.credentialId}/rotations`, reviewer, {})).json().code).toBe('rotation/already_open');
    const self = await post(`/api/rotations/${rotationId}/approve`, creator);
    expect([self.statusCode, self.json().code]).toEqual([403, 'rotation/four_eyes']);
    const approved = await post(`/api/rotations/${rotationId}/approve`, reviewer);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().state).toBe('delivering');
    await t.app.get(NotificationsService).drain();

    // Staff re-deliver: the first rotation delivery is cancelled, a fresh secret goes out.
    const firstDelivery = (await t.inject({ method: 'GET', url: `/api/credentials/${c.credentialId}`, headers: viewer.headers })).json().secrets[0].deliveryId;
    const again = await post(`/api/credentials/${c.credentialId}/redeliver`, reviewer);
    expect(again.statusCode, again.body).toBe(200);
    const afterRedeliver = (await t.inject({ method: 'GET', url: `/api/credentials/${c.credentialId}`, headers: viewer.headers })).json();
    expect(afterRedeliver.deliveries.find((d: { deliveryId: string }) => d.deliveryId === firstDelivery).state).toBe('cancelled');
    expect(afterRedeliver.secrets.map((s: { state: string }) => s.state)).toEqual(['pending_delivery', 'cancelled', 'active']);

    const oldToken = (await token('acceptance', c.clientId, oldSecret)).json().access_token;
    const newSecret = (await reveal(r.email, r.mobile, c.clientId)).clientSecret;
    expect(newSecret).not.toBe(oldSecret);
    await everyPath(c.clientId, oldSecret, 200, oldToken);
    await everyPath(c.clientId, newSecret, 200, oldToken);

    const during = (await t.inject({ method: 'GET', url: `/api/credentials/${c.credentialId}`, headers: viewer.headers })).json();
    expect(during.overlap).toMatchObject({ inOverlap: true, endsAt: new Date(t.clock.now().getTime() + 3 * 86_400_000).toISOString() });
    expect(during.rotations[0].state).toBe('overlap');
    const consolePage = () => t.inject({ method: 'GET', url: `/console/credentials/${c.credentialId}`, headers: { ...reviewer.headers, accept: 'text/html' } });
    expect((await consolePage()).body).toContain('Ask to end the overlap early');

    // Right after the reveal the old secret is not quiet: one reviewer alone cannot end the overlap.
    const alone = await post(`/api/credentials/${c.credentialId}/end-overlap`, reviewer);
    expect([alone.statusCode, alone.json().code]).toEqual([409, 'rotation/overlap_not_quiet']);
    expect((await post(`/api/credentials/${c.credentialId}/early-end-request`, creator)).statusCode).toBe(200);
    expect((await consolePage()).body).toContain('End overlap now');
    const ended = await post(`/api/credentials/${c.credentialId}/end-overlap`, reviewer);
    expect(ended.statusCode, ended.body).toBe(200);
    await everyPath(c.clientId, oldSecret, 401, oldToken);
    await everyPath(c.clientId, newSecret, 200, (await token('acceptance', c.clientId, newSecret)).json().access_token);
    expect(
      await t.prisma.auditEvent.count({
        where: {
          subjectId: c.credentialId,
          action: { in: ['credential.rotation_requested', 'credential.rotation_approved', 'credential.redelivered', 'credential.overlap_ended'] },
        },
      }),
    ).toBe(4);
    expect((await post(`/api/credentials/${c.credentialId}/end-overlap`, reviewer)).json().code).toBe('rotation/no_overlap');
  });

  it('ends the overlap by itself when the window (OVERLAP_DAYS) has passed; runs last, as it moves the clock', async () => {
    const r = await approvedRequest([{ api: 'communities', environment: 'acceptance' }]);
    const c = (await post(`/api/onboarding-requests/${r.id}/issue`, reviewer, { environment: 'acceptance' })).json().credentials[0];
    const oldSecret = (await reveal(r.email, r.mobile, c.clientId)).clientSecret;
    const rot = (await post(`/api/credentials/${c.credentialId}/rotations`, reviewer, {})).json();
    expect(rot.overlapDays).toBe(7);
    expect((await post(`/api/rotations/${rot.id}/approve`, creator)).statusCode).toBe(200);
    const newSecret = (await reveal(r.email, r.mobile, c.clientId)).clientSecret;
    t.clock.advance(7 * 86_400_000 - 60_000);
    expect((await token('acceptance', c.clientId, oldSecret)).statusCode).toBe(200);
    t.clock.advance(120_000);
    const tok = (await token('acceptance', c.clientId, newSecret)).json().access_token;
    await everyPath(c.clientId, oldSecret, 401, tok);
    await everyPath(c.clientId, newSecret, 200, tok);
    // The rotation whose overlap ran out by itself is over: it does not block the next one.
    const next = await post(`/api/credentials/${c.credentialId}/rotations`, await createStaffWithSession(t, { role: 'reviewer' }), {});
    expect(next.statusCode, next.body).toBe(201);
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: rot.id } })).state).toBe('completed');
  });
});
