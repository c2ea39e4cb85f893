import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { basic, form, FORM_HEADERS } from './support/credentials.helpers.js';
import { code as totp, enrolledStaff } from './support/staff.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { codeFrom, linkTokenFrom } from './support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { KeyServer, signAlert } from './support/fake-github-keys.js';
import { ContractRecorder, type OpenApiDocument } from './support/openapi-contract.js';
import { nestRoutes, routeKey } from './support/route-table.js';

// The OpenAPI document is what clients are written from. Every operation is called here, for a success and
// at least one error, and each answer is checked against the schema the document gives for its status.

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let keyServer: KeyServer;
let doc: OpenApiDocument;
let api: ContractRecorder;
let admin: StaffLogin;
let creator: StaffLogin;
let reviewer: StaffLogin;
let viewer: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  keyServer = await KeyServer.start();
  // The overlap is ended right after the reveal here; the quiet-period rule has its own tests.
  t = await startTestApp({
    env: {
      SMTP_URL: smtp.url,
      ...twilio.env(),
      OVERLAP_QUIET_HOURS: '0',
      SECRET_SCANNING_ENABLED: 'true',
      SECRET_SCANNING_KEYS_URL: keyServer.url,
      TWILIO_LOOKUP_CACHE_SECONDS: '0',
    },
  });
  doc = (await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
  api = new ContractRecorder(t, doc);
  [admin, creator, reviewer, viewer] = await Promise.all([
    createStaffWithSession(t, { role: 'admin' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Creator' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Second reviewer' }),
    createStaffWithSession(t, { role: 'viewer' }),
  ]);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
  await keyServer?.stop();
});

const NIL = '00000000-0000-4000-8000-000000000000';
const get = (url: string, as?: StaffLogin) => api.call({ method: 'GET', url, headers: as?.headers ?? {} });
const post = (url: string, as: StaffLogin | undefined, payload: unknown = {}, method = 'POST') =>
  api.call({ method, url, headers: as?.headers ?? {}, payload: payload as Record<string, unknown> });
const expectStatus = (res: { statusCode: number; body: string }, status: number) => expect(res.statusCode, res.body).toBe(status);

const isHouse = (key: string) => !/ \/(oauth|\.well-known)\//.test(key);
const refOf = (r: { content?: Record<string, { schema?: { $ref?: string } }> } | undefined) => r?.content?.['application/json']?.schema?.$ref;

describe('the document', () => {
  it('declares 200, not 201, for the OAuth token, introspection and revocation endpoints', () => {
    for (const p of ['token', 'introspect', 'revoke']) {
      expect(
        Object.keys(doc.paths[`/oauth/{env}/${p}`].post.responses).filter((s) => s.startsWith('2')),
        p,
      ).toEqual(['200']);
    }
  });

  it('gives every operation a success response with a schema, and its error responses (503 included) in the house or RFC 6749 shape', () => {
    const problems: string[] = [];
    for (const { key, op } of api.operations()) {
      const statuses = Object.keys(op.responses);
      const success = statuses.filter((s) => /^2\d\d$/.test(s));
      if (!success.length) problems.push(`${key}: no success response`);
      for (const s of success) if (!op.responses[s].content?.['application/json']?.schema) problems.push(`${key} ${s}: no schema`);
      const errors = statuses.filter((s) => /^[45]\d\d$/.test(s));
      const expected = isHouse(key) ? '#/components/schemas/ErrorView' : '#/components/schemas/OAuthErrorView';
      for (const s of errors) if (key !== 'GET /health' && refOf(op.responses[s]) !== expected) problems.push(`${key} ${s}: not ${expected}`);
      const has = (s: number) => statuses.includes(String(s));
      if (op.security?.some((x) => 'staff-session' in x) && !(has(401) && has(403))) problems.push(`${key}: a staff route without 401 and 403`);
      const takesInput = !!op.requestBody || (op.parameters ?? []).some((p) => p.in === 'query');
      if (takesInput && !has(400)) problems.push(`${key}: takes input but documents no 400`);
      if (/\{(?!env\})[^}]+\}/.test(key) && !has(404)) problems.push(`${key}: has an id in its path but documents no 404`);
      if (key !== 'GET /health' && !errors.some((s) => s.startsWith('4'))) problems.push(`${key}: no 4xx`);
      if (!has(503)) problems.push(`${key}: no 503 for a database that does not answer`);
    }
    expect(problems).toEqual([]);
  });

  it('lists every JSON route the service answers (a route left out of the document is checked by nothing here)', () => {
    const documented = new Set(api.operations().map((o) => o.key));
    const json = nestRoutes(t.app).filter((r) => /^\/(api|oauth|\.well-known)\//.test(r.path));
    expect(json.length).toBeGreaterThan(0);
    const missing = json.map((r) => routeKey({ method: r.method, path: r.path.replace(/:(\w+)/g, '{$1}') })).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('reads response schemas as closed: a raw row with an undeclared column, or a missing member, does not pass', () => {
    const validate = api.validator('POST /api/credentials/{id}/rotations', 201)!;
    const view = {
      id: NIL,
      credentialId: NIL,
      state: 'awaiting_approval',
      requestedByType: 'staff',
      requestedById: NIL,
      approvedById: null,
      approvedAt: null,
      overlapDays: 7,
      oldSecretId: null,
      newSecretId: null,
      earlyEndRequestedById: null,
      origin: 'routine',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    expect(validate(view), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...view, confirmTokenHash: 'a'.repeat(64) })).toBe(false);
    const { overlapDays: _dropped, ...missing } = view;
    expect(validate(missing)).toBe(false);
    expect(validate({ ...view, approvedAt: new Date() })).toBe(false);
    expect(api.problem('POST', '/oauth/acceptance/token', 201, '{}')).toMatch(/does not list/);
  });
});

describe('staff session and account', () => {
  it('signs in with JSON, and refuses wrong credentials and malformed bodies', async () => {
    const s = await enrolledStaff(t, 'viewer');
    const remoteAddress = '192.0.2.10';
    expectStatus(await api.call({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email, password: 'not-the-password' } }), 401);
    expectStatus(await api.call({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email } }), 400);
    const step1 = await api.call({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email, password: s.password } });
    expectStatus(step1, 200);
    const pending = step1.cookies.find((c) => c.name.endsWith('staff_pending'))!;
    expectStatus(await api.call({ method: 'POST', url: '/api/session/second-factor', remoteAddress, payload: { code: '123456' } }), 401);
    expectStatus(await api.call({ method: 'POST', url: '/api/session/second-factor', remoteAddress, payload: {} }), 400);
    const step2 = await api.call({
      method: 'POST',
      url: '/api/session/second-factor',
      remoteAddress,
      cookies: { [pending.name]: pending.value },
      payload: { code: await totp(t, s.secret) },
    });
    expectStatus(step2, 200);
    const session = step2.cookies.find((c) => c.name.endsWith('staff_session'))!;
    const me = {
      staffId: s.staffId,
      email: s.email,
      role: 'viewer',
      sessionId: '',
      headers: { cookie: `${session.name}=${session.value}`, 'x-csrf-token': step2.json().csrfToken },
    } as StaffLogin;

    expectStatus(await get('/api/staff/me', me), 200);
    expectStatus(await get('/api/staff/me'), 401);
    t.clock.advance(30_000); // a TOTP time step is accepted once
    expectStatus(await post('/api/staff/me/recovery-codes', me, { code: 'abcdef' }), 400);
    expectStatus(await post('/api/staff/me/recovery-codes', me, { code: await totp(t, s.secret) }), 200);
    expectStatus(await post('/api/staff/me/sign-out', me), 200);
    expectStatus(await post('/api/staff/me/sign-out', me), 401);

    const other = await createStaffWithSession(t, { role: 'viewer' });
    expectStatus(await api.call({ method: 'POST', url: '/api/staff/me/sign-out-everywhere', headers: { cookie: other.headers.cookie } }), 403);
    expectStatus(await post('/api/staff/me/sign-out-everywhere', other), 200);
  });
});

describe('staff administration', () => {
  it('answers each action with a member view, and refuses with the house error shape', async () => {
    expectStatus(await get('/api/staff', admin), 200);
    expectStatus(await get('/api/staff', viewer), 403);
    const created = await post('/api/staff', admin, { name: 'New Member', email: 'new.member@example.com', role: 'viewer' });
    expectStatus(created, 201);
    const id = created.json().member.id as string;
    expectStatus(await post('/api/staff', admin, { name: 'Again', email: 'new.member@example.com', role: 'viewer' }), 409);
    expectStatus(await post('/api/staff', admin, { name: 'Bad', email: 'not-an-email', role: 'viewer' }), 400);
    expectStatus(await get(`/api/staff/${id}`, admin), 200);
    expectStatus(await get(`/api/staff/${NIL}`, admin), 404);
    expectStatus(await get('/api/staff/not-a-uuid', admin), 400);
    expectStatus(await post(`/api/staff/${id}/role`, admin, { role: 'reviewer' }, 'PUT'), 200);
    expectStatus(await post(`/api/staff/${id}/role`, admin, { role: 'owner' }, 'PUT'), 400);
    expectStatus(await post(`/api/staff/${admin.staffId}/role`, admin, { role: 'viewer' }, 'PUT'), 409);
    for (const action of ['disable', 'enable', 'reset-totp', 'reset-sign-in']) {
      expectStatus(await post(`/api/staff/${id}/${action}`, admin), 200);
      expectStatus(await post(`/api/staff/${NIL}/${action}`, admin), 404);
    }
  });
});

// One request carried from intake to issued, revealed, rotated and revoked credentials.
const partnerEmail = 'contract.dev@partner.example';
const partnerMobile = '+31612340077';
let requestId = '';
let credentialId = '';
let partnerId = '';
let clientId = '';
let clientSecret = '';
let accessToken = '';
let ipSeq = 1;

const newRequest = (as: StaffLogin, n: number) =>
  post('/api/onboarding-requests', as, {
    partner: { legalName: `Contract Test ${n} B.V.`, registrationNumber: `6100000${n}`, country: 'NL' },
    contact: { name: 'Dev Eloper', email: n === 1 ? partnerEmail : `other${n}@partner.example`, mobile: partnerMobile },
    language: 'en',
    purpose: 'Our payroll app reads business data for employees of our customers.',
    items: [{ api: 'business', environment: 'acceptance' }],
  });

/** The partner's side: the newest link from the email, a code from the SMS, then the reveal. */
async function revealLatest(opts: { simSwapFirst?: boolean } = {}): Promise<{ clientId: string; clientSecret: string }> {
  await t.app.get(NotificationsService).drain();
  const remoteAddress = `198.51.100.${ipSeq++}`;
  // Emails may arrive in any order: the link to use is the one still pending.
  let token = '';
  for (const mail of smtp
    .to(partnerEmail)
    .filter((m) => m.text.includes('/delivery#'))
    .reverse()) {
    const candidate = linkTokenFrom(mail.text);
    const overview = await api.call({ method: 'POST', url: '/api/deliveries/lookup', remoteAddress, payload: { token: candidate } });
    expectStatus(overview, 200);
    if (overview.json().state === 'pending') {
      token = candidate;
      break;
    }
  }
  expect(token, 'a pending delivery link in the email').not.toBe('');
  if (opts.simSwapFirst) {
    // A SIM change yesterday holds the code until staff clear it.
    twilio.numbers.set(partnerMobile, { swappedAt: new Date(Date.now() - 86_400_000) });
    expectStatus(await api.call({ method: 'POST', url: '/api/deliveries/code', remoteAddress, payload: { token } }), 423);
    twilio.numbers.delete(partnerMobile);
    expectStatus(await get('/api/deliveries/sim-swap-holds'), 401);
    const holds = await get('/api/deliveries/sim-swap-holds', viewer);
    expectStatus(holds, 200);
    const deliveryId = holds.json().holds[0].deliveryId as string;
    expectStatus(await post(`/api/deliveries/${deliveryId}/sim-swap-clear`, reviewer, { reason: 'no' }), 400);
    expectStatus(await post(`/api/deliveries/${NIL}/sim-swap-clear`, reviewer, { reason: 'Called the contact back' }), 404);
    expectStatus(await post(`/api/deliveries/${deliveryId}/sim-swap-clear`, reviewer, { reason: 'Called the contact back on a known number' }), 200);
  }
  expectStatus(await api.call({ method: 'POST', url: '/api/deliveries/code', remoteAddress, payload: { token } }), 200);
  expectStatus(await api.call({ method: 'POST', url: '/api/deliveries/code', remoteAddress, payload: { token } }), 429);
  await t.app.get(NotificationsService).drain();
  const code = codeFrom(twilio.to(partnerMobile).at(-1)!.body);
  expectStatus(
    await api.call({ method: 'POST', url: '/api/deliveries/reveal', remoteAddress, payload: { token, code: code === '00000000' ? '11111111' : '00000000' } }),
    400,
  );
  const revealed = await api.call({ method: 'POST', url: '/api/deliveries/reveal', remoteAddress, payload: { token, code } });
  expectStatus(revealed, 200);
  expectStatus(await api.call({ method: 'POST', url: '/api/deliveries/reveal', remoteAddress, payload: { token, code } }), 410);
  return revealed.json();
}

describe('onboarding requests', () => {
  it('walks a request through review with views, and refuses what the rules forbid', async () => {
    expectStatus(await get('/api/onboarding-requests/catalogue', viewer), 200);
    expectStatus(await get('/api/onboarding-requests/catalogue'), 401);
    const created = await newRequest(creator, 1);
    expectStatus(created, 201);
    requestId = created.json().id;
    expectStatus(await post('/api/onboarding-requests', creator, { purpose: 'short' }), 400);
    expectStatus(await get('/api/onboarding-requests?q=Contract', viewer), 200);
    expectStatus(await get('/api/onboarding-requests?state=lost', viewer), 400);
    expectStatus(await get(`/api/onboarding-requests/${requestId}`, viewer), 200);
    expectStatus(await get(`/api/onboarding-requests/${NIL}`, viewer), 404);
    expectStatus(
      await post(
        `/api/onboarding-requests/${requestId}`,
        creator,
        { purpose: 'Our payroll app reads business data, corrected by staff.', version: 1 },
        'PATCH',
      ),
      200,
    );
    expectStatus(
      await post(`/api/onboarding-requests/${requestId}`, creator, { purpose: 'A stale edit that must not win over the newer one.', version: 1 }, 'PATCH'),
      409,
    );
    expectStatus(await get(`/api/onboarding-requests/${requestId}/history`, viewer), 200);
    expectStatus(await get('/api/onboarding-requests/not-a-uuid/history', viewer), 404);
    expectStatus(await post(`/api/onboarding-requests/${requestId}/start-review`, reviewer), 200);
    expectStatus(await post(`/api/onboarding-requests/${requestId}/start-review`, reviewer), 409);
    expectStatus(await post(`/api/onboarding-requests/${requestId}/approvals`, creator, { environment: 'acceptance' }), 403);
    expectStatus(await post(`/api/onboarding-requests/${requestId}/approvals`, reviewer, { environment: 'acceptance' }), 200);
    expectStatus(await get('/api/onboarding-requests/issuable', viewer), 200);
    expectStatus(await get('/api/onboarding-requests/issuable'), 401);

    const [toReject, toChange, toWithdraw] = await Promise.all([2, 3, 4].map(async (n) => (await newRequest(creator, n)).json().id as string));
    for (const id of [toReject, toChange]) expectStatus(await post(`/api/onboarding-requests/${id}/start-review`, reviewer), 200);
    expectStatus(await post(`/api/onboarding-requests/${toReject}/reject`, reviewer, { reason: 'We cannot offer this API to you.' }), 200);
    expectStatus(await post(`/api/onboarding-requests/${toReject}/reject`, reviewer, { reason: 'We cannot offer this API to you.' }), 409);
    expectStatus(await post(`/api/onboarding-requests/${toChange}/request-changes`, reviewer, { note: 'x' }), 400);
    expectStatus(await post(`/api/onboarding-requests/${toChange}/request-changes`, reviewer, { note: 'Say which employees use it.' }), 200);
    expectStatus(await post(`/api/onboarding-requests/${toWithdraw}/withdraw`, reviewer, { reason: 'The partner asked us to.' }), 200);
    expectStatus(await post(`/api/onboarding-requests/${toWithdraw}/withdraw`, reviewer, {}), 409);

    // A new contact for a known partner: a reviewer confirms it (staff who enter such a request already have).
    const newContact = (email: string) => ({
      partner: { legalName: 'Contract Test 1 B.V.', registrationNumber: '61000001', country: 'NL' },
      contact: { name: 'New Contact', email, mobile: '+31612340078' },
      language: 'en' as const,
      purpose: 'Our payroll app reads business data for employees of our customers.',
      items: [{ api: 'business', environment: 'acceptance' as const }],
    });
    const partnerCtx = { correlationId: randomUUID(), clientIp: null, userAgent: null, actor: { type: 'partner_contact' as const, id: null } };
    const fromPartner = (await t.app.get(OnboardingService).submit(partnerCtx, newContact('new-contact@partner.example'))).id;
    expectStatus(await post(`/api/onboarding-requests/${fromPartner}/confirm-contact`, reviewer, {}), 200);
    const byStaff = (await post('/api/onboarding-requests', creator, newContact('another-contact@partner.example'))).json().id as string;
    expectStatus(await post(`/api/onboarding-requests/${byStaff}/confirm-contact`, reviewer, {}), 409);
    expectStatus(
      await post(`/api/onboarding-requests/${byStaff}/contact-line-override`, reviewer, { reason: 'Texted the person from our own phone; it arrived' }),
      200,
    );
    expectStatus(await post(`/api/onboarding-requests/${byStaff}/contact-line-override`, reviewer, { reason: 'ok' }), 400);
    // A landline is refused where a request names it.
    twilio.numbers.set('+31612340079', { lineType: 'landline' });
    expectStatus(
      await post('/api/onboarding-requests', creator, {
        ...newContact('landline@partner.example'),
        contact: { name: 'Desk Phone', email: 'landline@partner.example', mobile: '+31612340079' },
      }),
      400,
    );
  });
});

describe('credentials, delivery and the OAuth issuers', () => {
  it('issues credentials and delivers the secret', async () => {
    const issued = await post(`/api/onboarding-requests/${requestId}/issue`, reviewer, { environment: 'acceptance' });
    expectStatus(issued, 201);
    credentialId = issued.json().credentials[0].credentialId;
    expectStatus(await post(`/api/onboarding-requests/${requestId}/issue`, reviewer, { environment: 'acceptance' }), 409);
    expectStatus(await api.call({ method: 'POST', url: '/api/deliveries/lookup', payload: { token: 'A'.repeat(43) } }), 404);
    ({ clientId, clientSecret } = await revealLatest({ simSwapFirst: true }));

    const detail = await get(`/api/credentials/${credentialId}`, viewer);
    expectStatus(detail, 200);
    partnerId = detail.json().partnerId;
    expectStatus(await get(`/api/credentials/${NIL}`, viewer), 404);
    expectStatus(await get(`/api/credentials?partnerId=${partnerId}`, viewer), 200);
    expectStatus(await get('/api/credentials?limit=0', viewer), 400);
    const secretId = detail.json().secrets[0].id as string;
    expectStatus(await get(`/api/deliveries?subjectType=credential_secret&subjectId=${secretId}`, viewer), 200);
    expectStatus(await get('/api/deliveries?subjectType=credential_secret', viewer), 400);
  });

  it('answers the OAuth endpoints in their documented shapes, errors in the RFC 6749 shape', async () => {
    const auth = { ...FORM_HEADERS, authorization: basic(clientId, clientSecret) };
    const wrong = { ...FORM_HEADERS, authorization: basic(clientId, `${clientSecret.slice(0, -1)}x`) };
    for (const url of [
      '/.well-known/oauth-authorization-server/oauth/acceptance',
      '/oauth/acceptance/.well-known/oauth-authorization-server',
      '/oauth/acceptance/jwks',
    ]) {
      expectStatus(await get(url), 200);
      expectStatus(await get(url.replace('acceptance', 'staging')), 404);
    }
    const token = await api.call({ method: 'POST', url: '/oauth/acceptance/token', headers: auth, payload: form({ grant_type: 'client_credentials' }) });
    expectStatus(token, 200);
    accessToken = token.json().access_token;
    expectStatus(await api.call({ method: 'POST', url: '/oauth/acceptance/token', headers: auth, payload: form({ grant_type: 'password' }) }), 400);
    expectStatus(await api.call({ method: 'POST', url: '/oauth/acceptance/token', headers: wrong, payload: form({ grant_type: 'client_credentials' }) }), 401);
    const active = await api.call({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: accessToken }) });
    expectStatus(active, 200);
    expect(active.json().active).toBe(true);
    expect((await api.call({ method: 'POST', url: '/oauth/acceptance/introspect', headers: auth, payload: form({ token: 'not-a-token' }) })).json()).toEqual({
      active: false,
    });
    expectStatus(await api.call({ method: 'POST', url: '/oauth/acceptance/introspect', headers: wrong, payload: form({ token: accessToken }) }), 401);
    expectStatus(await api.call({ method: 'POST', url: '/oauth/acceptance/revoke', headers: auth, payload: form({}) }), 400);
    expectStatus(await api.call({ method: 'POST', url: '/oauth/acceptance/revoke', headers: auth, payload: form({ token: accessToken }) }), 200);
  });

  it('rotates with four eyes, re-delivers, ends the overlap, and returns rotation views without the confirmation hash', async () => {
    const mistaken = await post(`/api/credentials/${credentialId}/rotations`, creator, { overlapDays: 3 });
    expectStatus(mistaken, 201);
    expectStatus(await post(`/api/rotations/${mistaken.json().id}/cancel`, reviewer, { reason: 'Started by mistake' }), 200);
    expectStatus(await post(`/api/rotations/${mistaken.json().id}/cancel`, reviewer, {}), 409);
    const started = await post(`/api/credentials/${credentialId}/rotations`, creator, { overlapDays: 3 });
    expectStatus(started, 201);
    const rotationId = started.json().id as string;
    expectStatus(await post(`/api/credentials/${credentialId}/rotations`, creator, {}), 409);
    expectStatus(await post(`/api/credentials/${credentialId}/rotations`, creator, { overlapDays: 91 }), 400);
    expectStatus(await post(`/api/rotations/${rotationId}/approve`, creator), 403);
    expectStatus(await post(`/api/rotations/${rotationId}/approve`, reviewer), 200);
    expectStatus(await post(`/api/credentials/${credentialId}/end-overlap`, reviewer), 409);
    expectStatus(await post(`/api/credentials/${credentialId}/early-end-request`, creator), 409);
    expectStatus(await post(`/api/credentials/${credentialId}/redeliver`, reviewer), 200);
    ({ clientSecret } = await revealLatest());
    expectStatus(await post(`/api/credentials/${NIL}/redeliver`, reviewer), 404);
    expectStatus(await get(`/api/credentials/${credentialId}`, viewer), 200);
    expectStatus(await post(`/api/credentials/${credentialId}/early-end-request`, creator), 200);
    expectStatus(await post(`/api/credentials/${credentialId}/end-overlap`, reviewer), 200);
    expectStatus(await post(`/api/credentials/${credentialId}/redeliver`, reviewer), 409);
  });

  it("takes a partner's rotation request and its confirmation", async () => {
    expectStatus(await api.call({ method: 'POST', url: '/api/rotation-requests', payload: { clientId } }), 202);
    expectStatus(await api.call({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: 'nobody' } }), 400);
    await t.app.get(NotificationsService).drain();
    const mail = smtp.to(partnerEmail).find((m) => m.text.includes('/rotate/confirm/'));
    const token = /\/rotate\/confirm\/([A-Za-z0-9_-]{43})/.exec(mail!.text)![1];
    expectStatus(await api.call({ method: 'POST', url: '/api/rotation-requests/confirm', payload: { token: 'A'.repeat(43) } }), 404);
    expectStatus(await api.call({ method: 'POST', url: '/api/rotation-requests/confirm', payload: { token } }), 200);
    const detail = await get(`/api/credentials/${credentialId}`, viewer);
    expect(JSON.stringify(detail.json())).not.toContain('confirmTokenHash');
  });

  it('explains an access token (public, tokens only)', async () => {
    const explained = await api.call({ method: 'POST', url: '/api/token-explain', payload: { token: 'not-a-token', environment: 'acceptance' } });
    expectStatus(explained, 200);
    expect(explained.json()).toMatchObject({ reason: 'malformed', valid: false });
    expectStatus(await api.call({ method: 'POST', url: '/api/token-explain', payload: { token: 'x', environment: 'staging' } }), 400);
  });

  it("revokes a credential and all of a partner's", async () => {
    expectStatus(await post(`/api/credentials/${credentialId}/revoke`, reviewer, { reason: 'x' }), 400);
    expectStatus(await post(`/api/credentials/${credentialId}/revoke`, reviewer, { reason: 'The partner stopped using it.' }), 200);
    expectStatus(await post(`/api/credentials/${credentialId}/revoke`, reviewer, { reason: 'The partner stopped using it.' }), 409);
    expectStatus(await post(`/api/partners/${partnerId}/credentials/revoke`, reviewer, { reason: 'Contract ended.' }), 200);
    expectStatus(await post('/api/partners/not-a-uuid/credentials/revoke', reviewer, { reason: 'Contract ended.' }), 404);
    expectStatus(await post(`/api/rotations/${NIL}/approve`, reviewer), 404);
  });

  it('reads and edits the API catalogue', async () => {
    const entries = await get('/api/catalogue', viewer);
    expectStatus(entries, 200);
    expectStatus(await get('/api/catalogue'), 401);
    const e = entries.json()[0] as { apiEnvironmentId: string; baseUrl: string; audience: string };
    expectStatus(await post(`/api/catalogue/${e.apiEnvironmentId}`, admin, { baseUrl: e.baseUrl, audience: e.audience }, 'PUT'), 200);
    expectStatus(await post(`/api/catalogue/${e.apiEnvironmentId}`, admin, { baseUrl: 'not a url', audience: e.audience }, 'PUT'), 400);
  });
});

describe('audit trail, notifications and health', () => {
  it('answers in the documented shapes', async () => {
    expectStatus(await get('/api/audit-events?limit=5', viewer), 200);
    expectStatus(await get('/api/audit-events?limit=0', viewer), 400);
    expectStatus(await get('/api/audit-events/verify', admin), 200);
    expectStatus(await get('/api/audit-events/verify', viewer), 403);
    expectStatus(await post('/api/audit-events/checkpoints', admin), 201);
    expectStatus(await post('/api/audit-events/checkpoints', viewer), 403);
    const verified = await get('/api/audit-events/verify', admin);
    expectStatus(verified, 200);
    expect(verified.json(), verified.body).toMatchObject({ ok: true, checkpoints: { given: 1, matched: 1, rejected: [] } });
    expectStatus(await get('/api/notifications?subjectType=credential', viewer), 200);
    expectStatus(await get('/api/notifications?status=lost', viewer), 400);
    expectStatus(await get('/health'), 200);
  });

  it('shows the keys in use and withdraws a signing key', async () => {
    expectStatus(await get('/api/keys/status', admin), 200);
    expectStatus(await get('/api/keys/status', viewer), 403);
    const keys = await get('/api/signing-keys', admin);
    expectStatus(keys, 200);
    expectStatus(await get('/api/signing-keys', viewer), 403);
    const kid = (keys.json() as Array<{ kid: string; environment: string; withdrawnAt: string | null }>).find(
      (k) => k.environment === 'production' && !k.withdrawnAt,
    )!.kid;
    expectStatus(await post(`/api/signing-keys/${kid}/withdraw`, admin, { reason: '' }), 400);
    expectStatus(await post(`/api/signing-keys/${kid}/withdraw`, admin, { reason: 'contract test' }), 200);
    expectStatus(await post(`/api/signing-keys/${kid}/withdraw`, admin, { reason: 'contract test' }), 404);
  });
});

describe('coverage', () => {
  // Reached only when the database is down (covered by the fault proofs, not here).
  const NO_CLIENT_ERROR = new Set(['GET /health']);

  it('answers GitHub secret scanning alerts in the feedback format, and refuses unsigned ones', async () => {
    const body = JSON.stringify([{ token: `cbsk_prd_${'A'.repeat(43)}`, type: 'cbsk_client_secret', url: 'https://github.com/o/r', source: 'content' }]);
    const ok = await api.call({ method: 'POST', url: '/secret-scanning/github', headers: signAlert(body, keyServer.keys[0]), payload: body });
    expectStatus(ok, 200);
    expect(ok.json()[0]).toMatchObject({ label: 'false_positive' });
    expectStatus(await api.call({ method: 'POST', url: '/secret-scanning/github', headers: { 'content-type': 'application/json' }, payload: body }), 401);
  });

  it('called every documented operation for a success and for a client error', () => {
    const missing: string[] = [];
    for (const { key } of api.operations()) {
      const seen = [...(api.seen.get(key) ?? [])];
      if (!seen.some((s) => s >= 200 && s < 300)) missing.push(`${key}: no 2xx`);
      if (!NO_CLIENT_ERROR.has(key) && !seen.some((s) => s >= 400 && s < 500)) missing.push(`${key}: no 4xx`);
    }
    expect(missing).toEqual([]);
    const statuses = [...api.seen.values()].reduce((n, s) => n + s.size, 0);
    process.stdout.write(
      `[proof] API contract: ${api.operations().length} operations, ${statuses} (operation, status) pairs, ${api.checked} answers validated against the ` +
        `document\n`,
    );
  });
});
