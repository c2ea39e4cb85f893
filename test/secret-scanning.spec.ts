import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { systemContext } from '../src/common/request-context.js';
import { CredentialsService } from '../src/credentials/credentials.service.js';
import { LeakReportsRepository } from '../src/credentials/leak-reports.repository.js';
import { LeakService } from '../src/credentials/leak.service.js';
import { RotationService } from '../src/credentials/rotation.service.js';
import { TemplateRenderer } from '../src/notifications/templates.js';
import { GithubKeys } from '../src/secret-scanning/github-keys.js';
import { startTestApp, type TestApp } from './support/app.js';
import { KeyServer, signAlert } from './support/fake-github-keys.js';
import { createStaffWithSession } from './support/factories.js';
import { basic, FORM_HEADERS, issueCredential, type IssuedCredential } from './credentials.helpers.js';

const keyServer = await KeyServer.start();
const SHARED = { SECRET_HASH_KEY: randomBytes(32).toString('base64'), MASTER_KEY: randomBytes(32).toString('base64') };
const ENV = {
  ...SHARED,
  SECRET_SCANNING_ENABLED: 'true',
  SECRET_SCANNING_KEYS_URL: keyServer.url,
  SECRET_SCANNING_KEY_REFRESH_SECONDS: '60',
  SECRET_SCANNING_MAX_BODY_BYTES: String(512 * 1024),
  STAFF_ALERT_EMAIL: 'security@example.com',
  LEAK_REPORTS_PER_HOUR: '8',
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: ENV });
});
afterAll(async () => {
  const verify = await t.app.get(AuditService).verify();
  expect(verify.ok).toBe(true);
  await t.close();
  await keyServer.stop();
});

function signed(body: string | Buffer, key: { id: string; privateKey: KeyObject } = keyServer.keys[0]): Record<string, string> {
  return signAlert(body, key);
}

function alert(app: TestApp, body: string, headers: Record<string, string>) {
  return app.inject({ method: 'POST', url: '/secret-scanning/github', headers, payload: body });
}

const randomSecret = () => `cbsk_acc_${randomBytes(32).toString('base64url')}`;
const tokenAt = (app: TestApp, c: IssuedCredential) =>
  app.inject({
    method: 'POST',
    url: '/oauth/acceptance/token',
    headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
    payload: 'grant_type=client_credentials',
  });

describe('GitHub secret scanning alerts', () => {
  it('revokes a leaked active secret, opens an emergency rotation, alerts contact and staff, and answers in GitHub feedback format', async () => {
    const cred = await issueCredential(t);
    expect((await tokenAt(t, cred)).statusCode).toBe(200);
    const stranger = randomSecret();
    const body = JSON.stringify([
      { token: cred.secret, type: 'cbsk_client_secret', url: 'https://github.com/acme/app/blob/abc/config.yml', source: 'commit' },
      { token: stranger, type: 'cbsk_client_secret', url: 'https://github.com/x/y', source: 'content' },
      { token: 'not-even-close', type: 'cbsk_client_secret', url: 'https://github.com/x/z', source: 'content' },
    ]);
    const res = await alert(t, body, signed(body));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([
      { token_raw: cred.secret, token_type: 'cbsk_client_secret', label: 'true_positive' },
      { token_raw: stranger, token_type: 'cbsk_client_secret', label: 'false_positive' },
      { token_raw: 'not-even-close', token_type: 'cbsk_client_secret', label: 'false_positive' },
    ]);
    const secret = await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: cred.secretId } });
    expect(secret.state).toBe('revoked');
    const refused = await tokenAt(t, cred);
    expect(refused.statusCode).toBe(401);
    const rotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: cred.credentialId } });
    expect(rotation).toMatchObject({ origin: 'leak', state: 'awaiting_approval', requestedByType: 'system', overlapDays: 0 });
    const reports = await t.app.get(LeakService).list({ credentialId: cred.credentialId });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      reporter: 'github',
      outcome: 'revoked',
      url: 'https://github.com/acme/app/blob/abc/config.yml',
      source: 'commit',
      rotationId: rotation.id,
      secretStateBefore: 'active',
    });
    const mails = await t.prisma.notification.findMany({ where: { subjectId: cred.credentialId, template: { in: ['secret-leaked', 'staff-secret-leaked'] } } });
    expect(mails.map((m) => m.template).sort()).toEqual(['secret-leaked', 'staff-secret-leaked']);
    // Nothing kept or logged holds the raw token.
    const audit = await t.prisma.auditEvent.findMany({ where: { subjectId: cred.credentialId } });
    expect(audit.map((a) => a.action)).toContain('credential.secret_leaked_revoked');
    const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
    const everything =
      json(audit) + json(await t.prisma.secretLeakReport.findMany()) + json(mails) + json(await t.prisma.credentialRotation.findMany()) + t.logs.join('');
    expect(everything).not.toContain(cred.secret);
    expect(everything).not.toContain(stranger);
    expect((await t.app.get(LeakService).openLeakIncidents()).map((i) => i.credentialId)).toContain(cred.credentialId);
  });

  it('answers a replayed alert the same without acting twice', async () => {
    const cred = await issueCredential(t);
    const body = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret', url: 'https://gist.github.com/1', source: 'gist' }]);
    const headers = signed(body);
    const first = await alert(t, body, headers);
    const again = await alert(t, body, headers);
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(await t.prisma.secretLeakReport.count({ where: { credentialId: cred.credentialId } })).toBe(1);
    expect(await t.prisma.notification.count({ where: { subjectId: cred.credentialId, template: 'secret-leaked' } })).toBe(1);
    // A fresh alert (another body) for the secret already revoked: recorded, still ours, no new rotation or email.
    const later = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret', url: 'https://gist.github.com/2', source: 'gist' }]);
    const res = await alert(t, later, signed(later));
    expect(res.json()[0].label).toBe('true_positive');
    const rows = await t.app.get(LeakService).list({ credentialId: cred.credentialId });
    expect(rows.map((r) => r.outcome).sort()).toEqual(['already_inactive', 'revoked']);
    expect(await t.prisma.credentialRotation.count({ where: { credentialId: cred.credentialId } })).toBe(1);
    expect(await t.prisma.notification.count({ where: { subjectId: cred.credentialId, template: 'secret-leaked' } })).toBe(1);
  });

  it('refuses unsigned, tampered, badly signed and malformed alerts with a clear code', async () => {
    const cred = await issueCredential(t);
    const body = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret', url: 'https://github.com/a/b', source: 'content' }]);
    const headers = signed(body);
    const unsigned = await alert(t, body, { 'content-type': 'application/json' });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json()).toMatchObject({ code: 'secret_scanning/signature_missing' });
    expect(unsigned.json().correlationId).toBeTruthy();
    const tampered = await alert(t, body.replace('github.com/a/b', 'github.com/a/c'), headers);
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json()).toMatchObject({ code: 'secret_scanning/bad_signature' });
    const garbage = await alert(t, body, { ...headers, 'github-public-key-signature': 'AAAA' });
    expect(garbage.json()).toMatchObject({ code: 'secret_scanning/bad_signature' });
    // Nothing happened to the secret.
    expect((await tokenAt(t, cred)).statusCode).toBe(200);

    const notJson = '[{"token": ';
    const malformed = await alert(t, notJson, signed(notJson));
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'secret_scanning/malformed_body' });
    for (const wrong of ['{"token":"x"}', '[{"token": 5, "type": "t"}]', '[{"type": "t"}]', '[null]', '[{"token":"x","type":"t","url":7}]']) {
      const r = await alert(t, wrong, signed(wrong));
      expect(r.statusCode, wrong).toBe(400);
      expect(r.json(), wrong).toMatchObject({ code: 'secret_scanning/invalid_payload' });
    }
    const big = JSON.stringify([{ token: 'x'.repeat(600 * 1024), type: 't' }]);
    const tooLarge = await alert(t, big, signed(big));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ code: 'request/body_too_large' });
    // The empty alert is well-formed: an empty answer.
    const empty = await alert(t, '[]', signed('[]'));
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual([]);
  });

  it('refreshes the keys on an unknown key id, at most once per refresh interval, and picks up a key rotated at the server', async () => {
    const keys = t.app.get(GithubKeys);
    t.clock.advance(61_000);
    const before = keys.fetches;
    const stranger = { id: 'f'.repeat(64), privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, pem: '' };
    const body = JSON.stringify([{ token: randomSecret(), type: 'cbsk_client_secret' }]);
    const unknown = await alert(t, body, signed(body, stranger));
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ code: 'secret_scanning/unknown_key' });
    expect(keys.fetches).toBe(before + 1);
    // A flood of made-up key ids within the interval reads the key server no more.
    const hitsBefore = keyServer.hits;
    const flood = await Promise.all(Array.from({ length: 20 }, (_, i) => alert(t, body, signed(body, { ...stranger, id: `${i}`.padStart(64, 'e') }))));
    expect(flood.every((r) => r.statusCode === 401)).toBe(true);
    expect(keyServer.hits).toBe(hitsBefore);

    // GitHub rotates its key: alerts signed with the new one are accepted once the interval allows a refresh.
    const rotated = keyServer.addKey();
    t.clock.advance(61_000);
    const cred = await issueCredential(t);
    const leak = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret', url: 'https://github.com/r/k', source: 'content' }]);
    const res = await alert(t, leak, signed(leak, rotated));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()[0].label).toBe('true_positive');
    expect(keys.fetches).toBe(before + 2);
  });

  it('handles 1,000 tokens in one alert with one lookup for the whole batch', async () => {
    const ours = await Promise.all(Array.from({ length: 10 }, () => issueCredential(t)));
    const tokens = Array.from({ length: 1000 }, (_, i) => (i % 100 === 7 ? ours[Math.floor(i / 100)].secret : randomSecret()));
    const body = JSON.stringify(tokens.map((token, i) => ({ token, type: 'cbsk_client_secret', url: `https://github.com/bulk/${i}`, source: 'content' })));
    const repo = t.app.get(LeakReportsRepository);
    const original = repo.secretsByHash.bind(repo);
    let lookups = 0;
    repo.secretsByHash = (hashes: string[]) => {
      lookups++;
      return original(hashes);
    };
    const started = performance.now();
    const res = await alert(t, body, signed(body));
    const ms = performance.now() - started;
    repo.secretsByHash = original;
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const labels = res.json() as Array<{ token_raw: string; label: string }>;
    expect(labels).toHaveLength(1000);
    expect(
      labels
        .filter((l) => l.label === 'true_positive')
        .map((l) => l.token_raw)
        .sort(),
    ).toEqual(ours.map((c) => c.secret).sort());
    expect(lookups).toBe(1);
    process.stdout.write(`[secret-scanning] 1000 tokens (10 ours) answered in ${Math.round(ms)} ms, ${lookups} lookup query\n`);
    expect(ms).toBeLessThan(10_000);
    for (const c of ours) expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: c.secretId } })).state).toBe('revoked');
  });

  it('finds a secret whose hash was made under a previous SECRET_HASH_KEY', async () => {
    const old = await startTestApp({ db: t.db, env: { ...ENV, SECRET_HASH_KEY: randomBytes(32).toString('base64') } });
    let cred: IssuedCredential;
    try {
      cred = await issueCredential(old);
    } finally {
      await old.close();
    }
    const rotatedKeys = await startTestApp({
      db: t.db,
      env: { ...ENV, SECRET_HASH_KEY: SHARED.SECRET_HASH_KEY, SECRET_HASH_KEY_PREVIOUS: old.config.secretHashKey.toString('base64') },
    });
    try {
      const body = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret' }]);
      const res = await alert(rotatedKeys, body, signed(body));
      expect(res.json()[0].label).toBe('true_positive');
      expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: cred.secretId } })).state).toBe('revoked');
    } finally {
      await rotatedKeys.close();
    }
  });

  it('a leaked secret stops working within 1 s on a second instance that had it cached', async () => {
    const b = await startTestApp({ db: t.db, env: ENV });
    try {
      const cred = await issueCredential(t);
      for (const inst of [t, b]) expect((await tokenAt(inst, cred)).statusCode).toBe(200);
      const body = JSON.stringify([{ token: cred.secret, type: 'cbsk_client_secret', url: 'https://github.com/two/instances', source: 'content' }]);
      expect((await alert(t, body, signed(body))).statusCode).toBe(200);
      const at = Date.now();
      let refusedAfter = -1;
      while (Date.now() - at < 5000) {
        if ((await tokenAt(b, cred)).statusCode === 401) {
          refusedAfter = Date.now() - at;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      process.stdout.write(`[secret-scanning] leaked secret refused by the second instance after ${refusedAfter} ms\n`);
      expect(refusedAfter).toBeGreaterThanOrEqual(0);
      expect(refusedAfter).toBeLessThan(1000);
      expect((await tokenAt(t, cred)).statusCode).toBe(401);
    } finally {
      await b.close();
    }
  });
});

describe('emergency rotation after a leak', () => {
  it('is approved by a reviewer from no working secret, and the incident closes once the new secret is revealed', async () => {
    const cred = await issueCredential(t);
    const leaks = t.app.get(LeakService);
    const [verdict] = await leaks.report(systemContext(), 'github', [{ token: cred.secret }]);
    expect(verdict).toMatchObject({ ours: true, outcome: 'revoked' });
    expect((await leaks.openLeakIncidents()).some((i) => i.rotationId === verdict.rotationId)).toBe(true);
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const approved = await t.inject({
      method: 'POST',
      url: `/api/rotations/${verdict.rotationId}/approve`,
      headers: { ...reviewer.headers, accept: 'application/json' },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'delivering', origin: 'leak', oldSecretId: null });
    const svc = t.app.get(CredentialsService);
    const newSecretId = approved.json().newSecretId as string;
    const secret = await t.prisma.transaction((tx) => svc.renewPendingSecret(tx, newSecretId));
    await t.prisma.transaction((tx) => svc.activateOnReveal(tx, systemContext(), newSecretId));
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: verdict.rotationId! } })).state).toBe('completed');
    expect((await leaks.openLeakIncidents()).some((i) => i.rotationId === verdict.rotationId)).toBe(false);
    expect((await tokenAt(t, { ...cred, secret })).statusCode).toBe(200);
  });

  it('a leaked retiring secret of an overlap ends the overlap and needs no rotation: the newer secret keeps working', async () => {
    const cred = await issueCredential(t);
    const rotation = t.app.get(RotationService);
    const svc = t.app.get(CredentialsService);
    const [a, b] = await Promise.all([createStaffWithSession(t), createStaffWithSession(t)]);
    const as = (s: { staffId: string }) => ({ ...systemContext(), actor: { type: 'staff' as const, id: s.staffId } });
    const started = await rotation.start(as(a), cred.credentialId);
    const approved = await rotation.approve(as(b), started.id);
    const newer = await t.prisma.transaction((tx) => svc.renewPendingSecret(tx, approved.newSecretId!));
    await t.prisma.transaction((tx) => svc.activateOnReveal(tx, systemContext(), approved.newSecretId!));
    const [verdict] = await t.app.get(LeakService).report(systemContext(), 'github', [{ token: cred.secret }]);
    expect(verdict).toMatchObject({ ours: true, outcome: 'revoked', rotationId: null });
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: started.id } })).state).toBe('completed');
    expect(await t.prisma.credentialRotation.count({ where: { credentialId: cred.credentialId, origin: 'leak' } })).toBe(0);
    expect((await tokenAt(t, cred)).statusCode).toBe(401);
    expect((await tokenAt(t, { ...cred, secret: newer })).statusCode).toBe(200);
  });

  it('a staff member who reported the leak cannot approve its emergency rotation alone', async () => {
    const cred = await issueCredential(t);
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const res = await t.inject({
      method: 'POST',
      url: '/console/leaks/report',
      headers: { ...reviewer.headers, ...FORM_HEADERS },
      payload: new URLSearchParams({ secret: cred.secret, url: 'https://pastebin.example/x', source: 'paste site' }).toString(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('The secret was revoked on every instance');
    const rotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: cred.credentialId, origin: 'leak' } });
    expect(rotation).toMatchObject({ requestedByType: 'staff', requestedById: reviewer.staffId });
    const self = await t.inject({ method: 'POST', url: `/api/rotations/${rotation.id}/approve`, headers: { ...reviewer.headers, accept: 'application/json' } });
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ code: 'rotation/four_eyes' });
  });
});

describe('the report forms', () => {
  it('the public form revokes a valid secret and answers a random string exactly the same', async () => {
    const cred = await issueCredential(t);
    const page = await t.inject({ method: 'GET', url: '/report-leak' });
    expect(page.statusCode).toBe(200);
    const post = (secret: string, ip: string) =>
      t.inject({
        method: 'POST',
        url: '/report-leak',
        remoteAddress: ip,
        headers: FORM_HEADERS,
        payload: new URLSearchParams({ secret, url: 'https://example.com/leak', source: 'forum' }).toString(),
      });
    const valid = await post(cred.secret, '198.51.100.10');
    const random = await post(randomSecret(), '198.51.100.10');
    expect(valid.statusCode).toBe(200);
    expect(random.statusCode).toBe(200);
    const strip = (html: string) => html.replace(/[0-9a-f-]{36}/g, '');
    expect(strip(valid.body)).toBe(strip(random.body));
    expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: cred.secretId } })).state).toBe('revoked');
    const [report] = await t.app.get(LeakService).list({ credentialId: cred.credentialId });
    expect(report).toMatchObject({ reporter: 'partner_form', outcome: 'revoked', url: 'https://example.com/leak' });
    expect(t.logs.join('')).not.toContain(cred.secret);
    // The partner's email does not carry a stranger's URL; the staff alert does, marked unverified.
    const renderer = t.app.get(TemplateRenderer);
    const nl = renderer.email('secret-leaked', 'nl', {
      recipientName: 'Jan',
      clientId: cred.clientId,
      partnerName: 'P',
      apiName: 'Business API',
      environmentLabel: 'Acceptance',
      secretHint: 'cbsk_acc…abcd',
      reportedAt: 'now',
      reporter: 'partner_form',
      url: null,
      source: null,
      emergencyRotation: true,
    });
    expect(nl.subject).toContain('uitgelekt');
    expect(nl.text).not.toContain('waar:');
    const wrong = await post('hello', '198.51.100.10');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('cbsk_acc_');
  });

  it('the public form is limited per client IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await t.inject({
        method: 'POST',
        url: '/report-leak',
        remoteAddress: '203.0.113.77',
        headers: FORM_HEADERS,
        payload: new URLSearchParams({ secret: randomSecret() }).toString(),
      });
      statuses.push(r.statusCode);
    }
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
    const elsewhere = await t.inject({
      method: 'POST',
      url: '/report-leak',
      remoteAddress: '203.0.113.78',
      headers: FORM_HEADERS,
      payload: new URLSearchParams({ secret: randomSecret() }).toString(),
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('staff see every leak report in the console, and only reviewers report', async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const list = await t.inject({ method: 'GET', url: '/console/leaks', headers: viewer.headers });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('GitHub secret scanning');
    expect(list.body).toContain('Public report form');
    expect(list.body).toContain('https://github.com/acme/app/blob/abc/config.yml');
    const refused = await t.inject({
      method: 'POST',
      url: '/console/leaks/report',
      headers: { ...viewer.headers, ...FORM_HEADERS },
      payload: new URLSearchParams({ secret: randomSecret() }).toString(),
    });
    expect(refused.statusCode).toBe(403);
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const notOurs = await t.inject({
      method: 'POST',
      url: '/console/leaks/report',
      headers: { ...reviewer.headers, ...FORM_HEADERS },
      payload: new URLSearchParams({ secret: randomSecret() }).toString(),
    });
    expect(notOurs.statusCode).toBe(200);
    expect(notOurs.body).toContain('not one of our secrets');
  });
});

describe('when turned off', () => {
  it('answers 404 secret_scanning/disabled', async () => {
    const off = await startTestApp({ db: t.db, env: { ...ENV, SECRET_SCANNING_ENABLED: 'false' } });
    try {
      const res = await alert(off, '[]', signed('[]'));
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'secret_scanning/disabled' });
    } finally {
      await off.close();
    }
  });
});
