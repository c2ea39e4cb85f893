import { Writable, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../src/audit/audit.service.js';
import { CLI_COMMANDS, type CliIo } from '../src/cli.commands.js';
import { systemContext } from '../src/common/request-context.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { Browser, code, enrolledStaff, hiddenCsrf, secretOf, signIn } from './support/staff.helpers.js';

let t: TestApp;
let ipSeq = 1;
const browser = () => new Browser(t, `203.0.113.${ipSeq++}`);
/** Every secret a test handled, to look for in logs and audit rows at the end. */
const secrets: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function adminBrowser() {
  const s = await enrolledStaff(t, 'admin');
  const b = browser();
  expect((await signIn(t, b, s)).statusCode).toBe(303);
  t.clock.advance(30_000);
  return { s, b };
}

function fakeIo(stdin: string | null): { io: CliIo; out: () => string } {
  let out = '';
  const stdout = new Writable({
    write(chunk, _e, cb) {
      out += String(chunk);
      cb();
    },
  });
  const input = Readable.from(stdin === null ? [] : [Buffer.from(stdin)]) as unknown as CliIo['stdin'];
  input.isTTY = stdin === null ? true : undefined;
  return { io: { stdout, stdin: input }, out: () => out };
}

describe('staff management', () => {
  it('is for admins only: viewers and reviewers get 403, pages and JSON alike', async () => {
    for (const role of ['viewer', 'reviewer'] as const) {
      const l = await createStaffWithSession(t, { role });
      expect((await t.inject({ method: 'GET', url: '/api/staff', headers: l.headers })).statusCode).toBe(403);
      expect(
        (await t.inject({ method: 'POST', url: '/api/staff', headers: l.headers, payload: { email: 'x@example.com', name: 'X', role: 'admin' } })).statusCode,
      ).toBe(403);
      expect((await t.inject({ method: 'PUT', url: `/api/staff/${l.staffId}/role`, headers: l.headers, payload: { role: 'admin' } })).statusCode).toBe(403);
      expect((await t.inject({ method: 'GET', url: '/console/staff', headers: { ...l.headers, accept: 'text/html' } })).statusCode).toBe(403);
    }
    expect((await t.inject({ method: 'GET', url: '/api/staff' })).statusCode).toBe(401);
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const list = await t.inject({ method: 'GET', url: '/api/staff', headers: admin.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json()[0]).not.toHaveProperty('passwordHash');
    expect(list.body).not.toMatch(/password_?hash|totp_?secret/i);
  });

  it('validates input with clear 4xx and refuses a duplicate email', async () => {
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const bad = await t.inject({ method: 'POST', url: '/api/staff', headers: admin.headers, payload: { email: 'not-an-email', name: '', role: 'superuser' } });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().details.fields).sort()).toEqual(['email', 'name', 'role']);
    const ok = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: admin.headers,
      payload: { email: 'Dup@Example.com', name: 'Dup', role: 'viewer' },
    });
    expect(ok.statusCode).toBe(201);
    secrets.push(ok.json().oneTimePassword);
    const dup = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: admin.headers,
      payload: { email: 'dup@example.com', name: 'Dup', role: 'viewer' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('staff/email_taken');
    expect((await t.inject({ method: 'GET', url: '/api/staff/not-a-uuid', headers: admin.headers })).statusCode).toBe(400);
    const paths = Object.keys((await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json().paths);
    for (const p of [
      '/api/staff',
      '/api/staff/{id}/role',
      '/api/staff/{id}/reset-sign-in',
      '/api/session',
      '/api/session/second-factor',
      '/api/staff/{id}/disable',
      '/api/staff/{id}/enable',
      '/api/staff/{id}/reset-totp',
      '/api/staff/me/sign-out-everywhere',
      '/api/staff/me/recovery-codes',
    ]) {
      expect(paths).toContain(p);
    }
  });

  it('creates a member in the console; they replace the one-time password and enrol TOTP at first sign-in', async () => {
    const { b: admin } = await adminBrowser();
    const created = await admin.submit('/console/staff/new', '/console/staff', { name: 'Nieuwe Collega', email: 'nieuw@example.com', role: 'reviewer' });
    expect(created.statusCode, created.body).toBe(200);
    const oneTime = /data-testid="one-time-password">([^<]+)</.exec(created.body)![1];
    secrets.push(oneTime);

    const m = browser();
    const pw = await m.submit('/console/sign-in', '/console/sign-in', { email: 'nieuw@example.com', password: oneTime });
    expect(pw.headers.location).toBe('/console/enrol');
    const enrolPage = await m.get('/console/enrol');
    expect(enrolPage.statusCode).toBe(200);
    expect(enrolPage.body).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
    const uri = /data-testid="otpauth-uri">([^<]+)</.exec(enrolPage.body)![1].replace(/&amp;/g, '&');
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const secret = secretOf(uri);
    secrets.push(secret);
    // The one-time password must be replaced, and the two new ones must match.
    const mismatch = await m.post('/console/enrol', {
      _csrf: hiddenCsrf(enrolPage.body),
      code: await code(t, secret),
      newPassword: 'a-brand-new-passphrase',
      confirmPassword: 'something-else-entirely',
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('The two passwords are not the same');
    const done = await m.post('/console/enrol', {
      _csrf: hiddenCsrf(enrolPage.body),
      code: await code(t, secret),
      newPassword: 'a-brand-new-passphrase',
      confirmPassword: 'a-brand-new-passphrase',
    });
    expect(done.statusCode, done.body).toBe(200);
    const recovery = [...done.body.matchAll(/<code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((x) => x[1]);
    expect(recovery).toHaveLength(10);
    secrets.push(...recovery);
    expect((await m.get('/console/account')).statusCode).toBe(200);

    // The one-time password no longer works; the new one (and a fresh code) does.
    t.clock.advance(30_000);
    expect((await m.get('/console/sign-in')).headers.location).toBe('/console');
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: 'nieuw@example.com', password: oneTime })).statusCode).toBe(401);
    expect((await signIn(t, browser(), { email: 'nieuw@example.com', password: 'a-brand-new-passphrase', secret })).statusCode).toBe(303);
    secrets.push('a-brand-new-passphrase');
  });

  it('changes roles, disables (ending sessions), enables and resets TOTP, all audited', async () => {
    const { s: adminS, b: admin } = await adminBrowser();
    const member = await enrolledStaff(t, 'viewer');
    const mb = browser();
    expect((await signIn(t, mb, member)).statusCode).toBe(303);

    const role = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/role`, { role: 'reviewer' });
    expect(role.headers.location).toBe(`/console/staff/${member.staffId}?done=role`);
    expect((await admin.get(role.headers.location as string)).body).toContain('The role was changed.');
    expect((await mb.get('/console/account')).body).toContain('reviewer');

    const disable = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/disable`, {});
    expect(disable.statusCode).toBe(303);
    expect((await mb.get('/console/account')).headers.location).toBe('/console/sign-in');
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), member)).statusCode).toBe(401);

    await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/enable`, {});
    t.clock.advance(30_000);
    const again = browser();
    expect((await signIn(t, again, member)).statusCode).toBe(303);

    const reset = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/reset-totp`, {});
    expect(reset.statusCode).toBe(303);
    expect((await again.get('/console/account')).headers.location).toBe('/console/sign-in');
    t.clock.advance(30_000);
    const next = await browser().submit('/console/sign-in', '/console/sign-in', { email: member.email, password: member.password });
    expect(next.headers.location).toBe('/console/enrol');

    const actions = (await t.prisma.auditEvent.findMany({ where: { subjectId: member.staffId, actorId: adminS.staffId }, select: { action: true } }))
      .map((a) => a.action)
      .sort();
    expect(actions).toEqual(['staff.disabled', 'staff.enabled', 'staff.role_changed', 'staff.totp_reset']);
  });

  it('resets a forgotten password with a new one-time password that expires after 7 days', async () => {
    const { b: admin } = await adminBrowser();
    const member = await enrolledStaff(t, 'viewer');
    const mb = browser();
    expect((await signIn(t, mb, member)).statusCode).toBe(303);
    const reset = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/reset-sign-in`, {});
    expect(reset.statusCode).toBe(200);
    const oneTime = /data-testid="one-time-password">([^<]+)</.exec(reset.body)![1];
    secrets.push(oneTime);
    expect((await mb.get('/console/account')).headers.location).toBe('/console/sign-in');
    t.clock.advance(30_000);
    // The old password is gone; the one-time password leads to enrolment.
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: member.email, password: member.password })).statusCode).toBe(401);
    const next = browser();
    const pw = await next.submit('/console/sign-in', '/console/sign-in', { email: member.email, password: oneTime });
    expect(pw.headers.location).toBe('/console/enrol');
    const enrolPage = await next.get('/console/enrol');
    const secret = secretOf(/data-testid="otpauth-uri">([^<]+)</.exec(enrolPage.body)![1].replace(/&amp;/g, '&'));
    secrets.push(secret, 'member-chose-this-passphrase');
    const done = await next.post('/console/enrol', {
      _csrf: hiddenCsrf(enrolPage.body),
      code: await code(t, secret),
      newPassword: 'member-chose-this-passphrase',
      confirmPassword: 'member-chose-this-passphrase',
    });
    expect(done.statusCode).toBe(200);
    const account = await t.prisma.staffAccount.findUniqueOrThrow({
      where: { id: member.staffId },
      select: { passwordExpiresAt: true, mustChangePassword: true },
    });
    expect(account).toEqual({ passwordExpiresAt: null, mustChangePassword: false });

    // An unused one-time password stops working after 7 days.
    const adminApi = await createStaffWithSession(t, { role: 'admin' });
    const created = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: adminApi.headers,
      payload: { email: 'late@example.com', name: 'Late', role: 'viewer' },
    });
    const late = created.json().oneTimePassword as string;
    secrets.push(late);
    t.clock.advance(7 * 24 * 3600_000 + 1000);
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: 'late@example.com', password: late })).statusCode).toBe(401);
    const reason = await t.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: created.json().member.id, action: 'staff.sign_in_failed' },
      select: { detail: true },
    });
    expect(reason.detail).toMatchObject({ reason: 'one_time_password_expired' });
    const laterAdmin = await createStaffWithSession(t, { role: 'admin' }); // the first admin's session has long ended
    const api = await t.inject({ method: 'POST', url: `/api/staff/${created.json().member.id}/reset-sign-in`, headers: laterAdmin.headers });
    expect(api.statusCode).toBe(200);
    secrets.push(api.json().oneTimePassword);
    expect(
      (await browser().submit('/console/sign-in', '/console/sign-in', { email: 'late@example.com', password: api.json().oneTimePassword })).headers.location,
    ).toBe('/console/enrol');
  });

  it('never leaves the service without an enabled admin, even with two admins acting at once', async () => {
    // Fresh database state for this rule: demote every other admin first.
    const a = await createStaffWithSession(t, { role: 'admin' });
    const others = await t.prisma.staffAccount.findMany({ where: { role: 'admin', id: { not: a.staffId } }, select: { id: true } });
    for (const o of others)
      expect((await t.inject({ method: 'PUT', url: `/api/staff/${o.id}/role`, headers: a.headers, payload: { role: 'viewer' } })).statusCode).toBe(200);

    const selfDemote = await t.inject({ method: 'PUT', url: `/api/staff/${a.staffId}/role`, headers: a.headers, payload: { role: 'reviewer' } });
    expect(selfDemote.statusCode).toBe(409);
    expect(selfDemote.json().code).toBe('staff/last_admin');
    expect((await t.inject({ method: 'POST', url: `/api/staff/${a.staffId}/disable`, headers: a.headers })).json().code).toBe('staff/last_admin');
    const page = await t.inject({
      method: 'POST',
      url: `/console/staff/${a.staffId}/role`,
      headers: { ...a.headers, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'role=viewer',
    });
    expect(page.statusCode).toBe(409);
    expect(page.body).toContain('no enabled admin');

    const b = await createStaffWithSession(t, { role: 'admin' });
    const [x, y] = await Promise.all([
      t.inject({ method: 'PUT', url: `/api/staff/${b.staffId}/role`, headers: a.headers, payload: { role: 'viewer' } }),
      t.inject({ method: 'PUT', url: `/api/staff/${a.staffId}/role`, headers: b.headers, payload: { role: 'viewer' } }),
    ]);
    // Exactly one wins. The loser is refused either by the last-admin rule (both checked at once) or, when the
    // winner committed before the loser's request was authorised, because the loser is no longer an admin.
    const [won, lost] = x.statusCode === 200 ? [x, y] : [y, x];
    expect(won.statusCode).toBe(200);
    expect([`409 staff/last_admin`, `403 auth/role_required`]).toContain(`${lost.statusCode} ${lost.json().code}`);
    expect(await t.prisma.staffAccount.count({ where: { role: 'admin', disabledAt: null } })).toBe(1);
  });
});

describe('staff CLI', () => {
  const create = CLI_COMMANDS.find((c) => c.name === 'staff:create')!;
  const totp = CLI_COMMANDS.find((c) => c.name === 'staff:totp')!;

  it('creates an enrolled admin with a generated password and prints the otpauth URI and recovery codes once', async () => {
    const { io, out } = fakeIo(null);
    expect(await create.run(t.app, { email: 'Ops@Example.com', role: 'admin', name: 'Ops' }, io)).toBe(0);
    const text = out();
    const password = /Password \(shown once\): (\S+)/.exec(text)![1];
    const uri = /(otpauth:\/\/totp\/\S+)/.exec(text)![1];
    const codes = [...text.matchAll(/^ {2}([a-z2-9]{5}-[a-z2-9]{5})$/gm)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    secrets.push(password, secretOf(uri), ...codes);
    expect((await signIn(t, browser(), { email: 'ops@example.com', password, secret: secretOf(uri) })).statusCode).toBe(303);
    const row = await t.prisma.auditEvent.findFirstOrThrow({
      where: { action: 'staff.created', detail: { path: ['via'], equals: 'cli' } },
      select: { actorType: true, actorId: true },
    });
    expect(row).toEqual({ actorType: 'system', actorId: null });
  });

  it('takes the password from stdin when piped, and refuses bad arguments', async () => {
    const piped = fakeIo('piped-password-from-stdin\n');
    expect(await create.run(t.app, { email: 'piped@example.com', role: 'viewer' }, piped.io)).toBe(0);
    expect(piped.out()).not.toContain('piped-password-from-stdin');
    expect(piped.out()).toContain('Password: the one given on stdin.');
    secrets.push('piped-password-from-stdin', secretOf(/(otpauth:\/\/totp\/\S+)/.exec(piped.out())![1]));
    t.clock.advance(30_000);
    expect(
      (
        await signIn(t, browser(), {
          email: 'piped@example.com',
          password: 'piped-password-from-stdin',
          secret: secretOf(/(otpauth:\/\/totp\/\S+)/.exec(piped.out())![1]),
        })
      ).statusCode,
    ).toBe(303);

    expect(await create.run(t.app, { email: 'piped@example.com', role: 'viewer' }, fakeIo(null).io)).toBe(1);
    expect(await create.run(t.app, { email: 'x@example.com', role: 'owner' }, fakeIo(null).io)).toBe(64);
    expect(await create.run(t.app, { email: 'nope', role: 'viewer' }, fakeIo(null).io)).toBe(64);
    expect(await create.run(t.app, { email: 'short@example.com', role: 'viewer' }, fakeIo('short\n').io)).toBe(64);
  });

  it('prints TOTP codes only in development', async () => {
    const { io, out } = fakeIo(null);
    expect(await totp.run(t.app, { email: 'ops@example.com' }, io)).toBe(1);
    expect(out()).toContain('only with NODE_ENV=development');
  });
});

describe('audit page', () => {
  it('lists events newest first with filters and older pages, for viewers', async () => {
    const audit = t.app.get(AuditService);
    await t.prisma.transaction(async (tx) => {
      for (let i = 0; i < 60; i++) await audit.record(tx, systemContext(), { action: 'test.filler', subjectType: 'thing', subjectId: String(i) });
    });
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const h = { ...viewer.headers, accept: 'text/html' };
    const all = await t.inject({ method: 'GET', url: '/console/audit', headers: h });
    expect(all.statusCode).toBe(200);
    const seqs = [...all.body.matchAll(/<dt>chain position<\/dt><dd>(\d+)<\/dd>/g)].map((m) => Number(m[1]));
    expect(seqs.length).toBe(50);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    const older = /data-testid="older">/.test(all.body) ? /href="([^"]+)" rel="next"/.exec(all.body)![1].replace(/&amp;/g, '&') : null;
    expect(older).not.toBeNull();
    const page2 = await t.inject({ method: 'GET', url: older!, headers: h });
    const seqs2 = [...page2.body.matchAll(/<dt>chain position<\/dt><dd>(\d+)<\/dd>/g)].map((m) => Number(m[1]));
    expect(Math.max(...seqs2)).toBeLessThan(Math.min(...seqs));

    const filtered = await t.inject({ method: 'GET', url: '/console/audit?action=staff.totp_reset&subjectType=&from=2000-01-01', headers: h });
    expect(filtered.statusCode).toBe(200);
    expect(filtered.body).toContain('staff.totp_reset');
    expect(filtered.body).not.toContain('>staff.created<');
    const bad = await t.inject({ method: 'GET', url: '/console/audit?actorId=nope&from=yesterday', headers: h });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('There is a problem');
    expect((await t.inject({ method: 'GET', url: '/console/audit', headers: { accept: 'text/html' } })).headers.location).toBe('/console/sign-in');
    expect((await t.inject({ method: 'GET', url: '/console/audit' })).statusCode).toBe(401);
  });

  it('never writes passwords, TOTP seeds, codes or recovery codes to logs or audit rows', async () => {
    expect(secrets.length).toBeGreaterThan(20);
    const logs = t.logs.join('\n');
    const admin = await t.db.admin();
    const audit = (await admin.query(`SELECT detail::text || coalesce(subject_id, '') || action AS t FROM audit_event`)).rows.map((r) => r.t).join('\n');
    const tables = (await admin.query(`SELECT password_hash || coalesce(totp_secret_enc, '') AS t FROM staff_account`)).rows.map((r) => r.t).join('\n');
    await admin.end();
    for (const s of secrets) {
      expect(logs.includes(s), `log leaks ${s.slice(0, 3)}…`).toBe(false);
      expect(audit.includes(s), `audit leaks ${s.slice(0, 3)}…`).toBe(false);
      expect(tables.includes(s), `table holds ${s.slice(0, 3)}… in plaintext`).toBe(false);
    }
  });
});
