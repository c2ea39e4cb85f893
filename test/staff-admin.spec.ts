import { randomUUID } from 'node:crypto';
import { Writable, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../src/audit/audit.service.js';
import { CLI_COMMANDS, type CliIo } from '../src/cli.commands.js';
import { systemContext } from '../src/common/request-context.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { adminAndMember, atEnrolment, consoleCreatedMember, consoleEnrolledMember, enrol, freshBrowser } from './support/staff.factories.js';
import { enrolledStaff, secretOf, signIn } from './support/staff.helpers.js';

let t: TestApp;
const browser = () => freshBrowser(t);

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

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

const createCommand = CLI_COMMANDS.find((c) => c.name === 'staff:create')!;
const totpCommand = CLI_COMMANDS.find((c) => c.name === 'staff:totp')!;

/** `staff:create` for a new email; with `stdin` null the CLI generates the password. */
async function cliCreated(stdin: string | null, role = 'admin') {
  const email = `ops-${randomUUID()}@example.com`;
  const { io, out } = fakeIo(stdin);
  const exitCode = await createCommand.run(t.app, { email: email.replace('ops', 'Ops'), role, name: 'Ops' }, io);
  const text = out();
  const uri = /(otpauth:\/\/totp\/\S+)/.exec(text)?.[1];
  return {
    email,
    exitCode,
    text,
    password: stdin === null ? /Password \(shown once\): (\S+)/.exec(text)?.[1] : stdin.trim(),
    secret: uri ? secretOf(uri) : '',
    codes: [...text.matchAll(/^ {2}([a-z2-9]{5}-[a-z2-9]{5})$/gm)].map((m) => m[1]),
  };
}

/** An admin signed in through the pages, one time step ago. */
async function adminBrowser() {
  const s = await enrolledStaff(t, 'admin');
  const b = browser();
  expect((await signIn(t, b, s)).statusCode).toBe(303);
  t.clock.advance(30_000);
  return { s, b };
}

/** An admin session after every other admin was demoted: the only enabled admin of the service. */
async function soleAdmin() {
  const a = await createStaffWithSession(t, { role: 'admin' });
  const others = await t.prisma.staffAccount.findMany({ where: { role: 'admin', id: { not: a.staffId } }, select: { id: true } });
  for (const o of others)
    expect((await t.inject({ method: 'PUT', url: `/api/staff/${o.id}/role`, headers: a.headers, payload: { role: 'viewer' } })).statusCode).toBe(200);
  return a;
}

describe('staff management access', () => {
  it.each(['viewer', 'reviewer'] as const)('refuses a %s with 403, pages and JSON alike', async (role) => {
    const l = await createStaffWithSession(t, { role });
    expect((await t.inject({ method: 'GET', url: '/api/staff', headers: l.headers })).statusCode).toBe(403);
    expect(
      (await t.inject({ method: 'POST', url: '/api/staff', headers: l.headers, payload: { email: 'x@example.com', name: 'X', role: 'admin' } })).statusCode,
    ).toBe(403);
    expect((await t.inject({ method: 'PUT', url: `/api/staff/${l.staffId}/role`, headers: l.headers, payload: { role: 'admin' } })).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: '/console/staff', headers: { ...l.headers, accept: 'text/html' } })).statusCode).toBe(403);
  });

  it('asks for a session before listing staff', async () => {
    expect((await t.inject({ method: 'GET', url: '/api/staff' })).statusCode).toBe(401);
  });

  it('lists staff for an admin without password hashes or TOTP secrets', async () => {
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const list = await t.inject({ method: 'GET', url: '/api/staff', headers: admin.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json()[0]).not.toHaveProperty('passwordHash');
    expect(list.body).not.toMatch(/password_?hash|totp_?secret/i);
  });
});

describe('staff management input', () => {
  it('names every invalid field of a new member', async () => {
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const bad = await t.inject({ method: 'POST', url: '/api/staff', headers: admin.headers, payload: { email: 'not-an-email', name: '', role: 'superuser' } });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().details.fields).sort()).toEqual(['email', 'name', 'role']);
  });

  it('refuses a second member with the same email in another case', async () => {
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const local = `dup-${randomUUID()}`;
    const ok = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: admin.headers,
      payload: { email: `${local}@Example.com`, name: 'Dup', role: 'viewer' },
    });
    expect(ok.statusCode).toBe(201);
    const dup = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: admin.headers,
      payload: { email: `${local.toUpperCase()}@example.com`, name: 'Dup', role: 'viewer' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('staff/email_taken');
  });

  it('refuses a staff id that is not a UUID', async () => {
    const admin = await createStaffWithSession(t, { role: 'admin' });
    expect((await t.inject({ method: 'GET', url: '/api/staff/not-a-uuid', headers: admin.headers })).statusCode).toBe(400);
  });

  it('documents the staff and session routes in OpenAPI', async () => {
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
});

describe('a member created in the console', () => {
  it('is shown once with a one-time password', async () => {
    const { b: admin } = await adminBrowser();
    const { created, oneTime } = await consoleCreatedMember(t, admin);
    expect(created.statusCode, created.body).toBe(200);
    expect(oneTime).not.toBe('');
  });

  it('is sent to enrolment by the one-time password, with a QR code and the otpauth URI', async () => {
    const { b: admin } = await adminBrowser();
    const { email, oneTime } = await consoleCreatedMember(t, admin);
    const { pw, enrolPage, uri } = await atEnrolment(t, email, oneTime);
    expect(pw.headers.location).toBe('/console/enrol');
    expect(enrolPage.statusCode).toBe(200);
    expect(enrolPage.body).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
  });

  it('must type the new password twice alike', async () => {
    const { b: admin } = await adminBrowser();
    const { email, oneTime } = await consoleCreatedMember(t, admin);
    const { done: mismatch } = await enrol(t, await atEnrolment(t, email, oneTime), 'a-brand-new-passphrase', 'something-else-entirely');
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('The two passwords are not the same');
  });

  it('enrols with a TOTP code and a password of their own, and gets ten recovery codes and a session', async () => {
    const { done, recovery, m } = await consoleEnrolledMember(t);
    expect(done.statusCode, done.body).toBe(200);
    expect(recovery).toHaveLength(10);
    expect((await m.get('/console/account')).statusCode).toBe(200);
    expect((await m.get('/console/sign-in')).headers.location).toBe('/console');
  });

  it('can no longer use the one-time password once enrolled', async () => {
    const { email, oneTime } = await consoleEnrolledMember(t);
    t.clock.advance(30_000);
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email, password: oneTime })).statusCode).toBe(401);
  });

  it('signs in with the password they chose and a fresh code', async () => {
    const { email, secret, newPassword } = await consoleEnrolledMember(t, 'a-brand-new-passphrase');
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), { email, password: newPassword, secret })).statusCode).toBe(303);
  });
});

describe('managing a member', () => {
  it('changes their role, says so on the page, and the member sees it', async () => {
    const { admin, member, mb } = await adminAndMember(t);
    const role = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/role`, { role: 'reviewer' });
    expect(role.headers.location).toBe(`/console/staff/${member.staffId}?done=role`);
    expect((await admin.get(role.headers.location as string)).body).toContain('The role was changed.');
    expect((await mb.get('/console/account')).body).toContain('reviewer');
  });

  it('disables them, ending their session and refusing their sign-in', async () => {
    const { admin, member, mb } = await adminAndMember(t);
    const disable = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/disable`, {});
    expect(disable.statusCode).toBe(303);
    expect((await mb.get('/console/account')).headers.location).toBe('/console/sign-in');
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), member)).statusCode).toBe(401);
  });

  it('enables a disabled member again', async () => {
    const { admin, member } = await adminAndMember(t);
    await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/disable`, {});
    await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/enable`, {});
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), member)).statusCode).toBe(303);
  });

  it('resets their TOTP, ending their session and sending them to enrolment', async () => {
    const { admin, member, mb } = await adminAndMember(t);
    const reset = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/reset-totp`, {});
    expect(reset.statusCode).toBe(303);
    expect((await mb.get('/console/account')).headers.location).toBe('/console/sign-in');
    t.clock.advance(30_000);
    const next = await browser().submit('/console/sign-in', '/console/sign-in', { email: member.email, password: member.password });
    expect(next.headers.location).toBe('/console/enrol');
  });

  it('audits role change, disabling, enabling and TOTP reset with the acting admin', async () => {
    const { adminS, admin, member } = await adminAndMember(t);
    await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/role`, { role: 'reviewer' });
    for (const step of ['disable', 'enable', 'reset-totp'])
      await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/${step}`, {});
    const actions = (await t.prisma.auditEvent.findMany({ where: { subjectId: member.staffId, actorId: adminS.staffId }, select: { action: true } }))
      .map((a) => a.action)
      .sort();
    expect(actions).toEqual(['staff.disabled', 'staff.enabled', 'staff.role_changed', 'staff.totp_reset']);
  });
});

describe('a forgotten password', () => {
  /** An admin reset the signed-in `member`'s sign-in; the page showed the new one-time password. */
  async function resetMember() {
    const { admin, member, mb } = await adminAndMember(t);
    const reset = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/reset-sign-in`, {});
    const oneTime = /data-testid="one-time-password">([^<]+)</.exec(reset.body)?.[1] ?? '';
    t.clock.advance(30_000);
    return { member, mb, reset, oneTime };
  }

  it('is reset to a one-time password, ending the member’s sessions', async () => {
    const { mb, reset, oneTime } = await resetMember();
    expect(reset.statusCode).toBe(200);
    expect(oneTime).not.toBe('');
    expect((await mb.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('no longer works after the reset', async () => {
    const { member } = await resetMember();
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: member.email, password: member.password })).statusCode).toBe(401);
  });

  it('gives way to enrolment with the one-time password, which clears its expiry and the duty to change it', async () => {
    const { member, oneTime } = await resetMember();
    const at = await atEnrolment(t, member.email, oneTime);
    expect(at.pw.headers.location).toBe('/console/enrol');
    const { done } = await enrol(t, at, 'member-chose-this-passphrase');
    expect(done.statusCode).toBe(200);
    const account = await t.prisma.staffAccount.findUniqueOrThrow({
      where: { id: member.staffId },
      select: { passwordExpiresAt: true, mustChangePassword: true },
    });
    expect(account).toEqual({ passwordExpiresAt: null, mustChangePassword: false });
  });
});

describe('an unused one-time password', () => {
  /** A member created through the API whose one-time password was never used for 7 days. */
  async function lateMember() {
    const adminApi = await createStaffWithSession(t, { role: 'admin' });
    const email = `late-${randomUUID()}@example.com`;
    const created = await t.inject({ method: 'POST', url: '/api/staff', headers: adminApi.headers, payload: { email, name: 'Late', role: 'viewer' } });
    t.clock.advance(7 * 24 * 3600_000 + 1000);
    return { email, id: created.json().member.id as string, late: created.json().oneTimePassword as string };
  }

  it('stops working after 7 days, and the audit row says why', async () => {
    const { email, id, late } = await lateMember();
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email, password: late })).statusCode).toBe(401);
    const reason = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'staff.sign_in_failed' }, select: { detail: true } });
    expect(reason.detail).toMatchObject({ reason: 'one_time_password_expired' });
  });

  it('is replaced through the API by a new one that leads to enrolment', async () => {
    const { email, id } = await lateMember();
    const laterAdmin = await createStaffWithSession(t, { role: 'admin' });
    const api = await t.inject({ method: 'POST', url: `/api/staff/${id}/reset-sign-in`, headers: laterAdmin.headers });
    expect(api.statusCode).toBe(200);
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email, password: api.json().oneTimePassword })).headers.location).toBe(
      '/console/enrol',
    );
  });
});

describe('the last enabled admin', () => {
  it('cannot demote themselves', async () => {
    const a = await soleAdmin();
    const selfDemote = await t.inject({ method: 'PUT', url: `/api/staff/${a.staffId}/role`, headers: a.headers, payload: { role: 'reviewer' } });
    expect(selfDemote.statusCode).toBe(409);
    expect(selfDemote.json().code).toBe('staff/last_admin');
  });

  it('cannot disable themselves', async () => {
    const a = await soleAdmin();
    expect((await t.inject({ method: 'POST', url: `/api/staff/${a.staffId}/disable`, headers: a.headers })).json().code).toBe('staff/last_admin');
  });

  it('is told why on the console page', async () => {
    const a = await soleAdmin();
    const page = await t.inject({
      method: 'POST',
      url: `/console/staff/${a.staffId}/role`,
      headers: { ...a.headers, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'role=viewer',
    });
    expect(page.statusCode).toBe(409);
    expect(page.body).toContain('no enabled admin');
  });

  it('stays, even with two admins demoting each other at once', async () => {
    const a = await soleAdmin();
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
  it('creates an enrolled admin with a generated password and prints the otpauth URI and ten recovery codes once', async () => {
    const { exitCode, password, secret, codes } = await cliCreated(null);
    expect(exitCode).toBe(0);
    expect(password).toBeDefined();
    expect(secret).not.toBe('');
    expect(codes).toHaveLength(10);
  });

  it('makes an account that signs in with what it printed', async () => {
    const { email, password, secret } = await cliCreated(null);
    expect((await signIn(t, browser(), { email, password: password!, secret })).statusCode).toBe(303);
  });

  it('audits the account as made by the system', async () => {
    const { email } = await cliCreated(null);
    const { id } = await t.prisma.staffAccount.findUniqueOrThrow({ where: { email }, select: { id: true } });
    const row = await t.prisma.auditEvent.findFirstOrThrow({
      where: { action: 'staff.created', subjectId: id, detail: { path: ['via'], equals: 'cli' } },
      select: { actorType: true, actorId: true },
    });
    expect(row).toEqual({ actorType: 'system', actorId: null });
  });

  it('takes the password from stdin when piped, without printing it', async () => {
    const piped = await cliCreated('piped-password-from-stdin\n', 'viewer');
    expect(piped.exitCode).toBe(0);
    expect(piped.text).not.toContain('piped-password-from-stdin');
    expect(piped.text).toContain('Password: the one given on stdin.');
  });

  it('makes an account that signs in with the piped password', async () => {
    const { email, secret } = await cliCreated('piped-password-from-stdin\n', 'viewer');
    expect((await signIn(t, browser(), { email, password: 'piped-password-from-stdin', secret })).statusCode).toBe(303);
  });

  it('refuses an email already taken', async () => {
    const { email } = await cliCreated(null, 'viewer');
    expect(await createCommand.run(t.app, { email, role: 'viewer' }, fakeIo(null).io)).toBe(1);
  });

  it.each([
    ['an unknown role', { email: 'x@example.com', role: 'owner' }, null],
    ['a malformed email', { email: 'nope', role: 'viewer' }, null],
    ['a short piped password', { email: 'short@example.com', role: 'viewer' }, 'short\n'],
  ])('refuses %s as bad usage', async (_what, args, stdin) => {
    expect(await createCommand.run(t.app, args, fakeIo(stdin).io)).toBe(64);
  });

  it('prints TOTP codes only in development', async () => {
    const { email } = await cliCreated(null);
    const { io, out } = fakeIo(null);
    expect(await totpCommand.run(t.app, { email }, io)).toBe(1);
    expect(out()).toContain('only with NODE_ENV=development');
  });
});

describe('audit page', () => {
  const html = async () => ({ ...(await createStaffWithSession(t, { role: 'viewer' })).headers, accept: 'text/html' });
  const seqsOf = (body: string) => [...body.matchAll(/<dt>chain position<\/dt><dd>(\d+)<\/dd>/g)].map((m) => Number(m[1]));

  /** More than a page of events, the newest ones fillers. */
  async function pageOfFillers() {
    const audit = t.app.get(AuditService);
    await t.prisma.transaction(async (tx) => {
      for (let i = 0; i < 60; i++) await audit.record(tx, systemContext(), { action: 'test.filler', subjectType: 'thing', subjectId: String(i) });
    });
  }

  it('shows viewers the 50 newest events, newest first', async () => {
    await pageOfFillers();
    const all = await t.inject({ method: 'GET', url: '/console/audit', headers: await html() });
    expect(all.statusCode).toBe(200);
    const seqs = seqsOf(all.body);
    expect(seqs.length).toBe(50);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  });

  it('links to an older page that goes on below the first', async () => {
    await pageOfFillers();
    const h = await html();
    const all = await t.inject({ method: 'GET', url: '/console/audit', headers: h });
    const older = /data-testid="older">/.test(all.body) ? /href="([^"]+)" rel="next"/.exec(all.body)![1].replace(/&amp;/g, '&') : null;
    expect(older).not.toBeNull();
    const page2 = await t.inject({ method: 'GET', url: older!, headers: h });
    expect(Math.max(...seqsOf(page2.body))).toBeLessThan(Math.min(...seqsOf(all.body)));
  });

  it('filters by action', async () => {
    const audit = t.app.get(AuditService);
    await t.prisma.transaction(async (tx) => {
      for (const action of ['staff.created', 'staff.totp_reset'])
        await audit.record(tx, systemContext(), { action, subjectType: 'staff', subjectId: randomUUID() });
    });
    const filtered = await t.inject({ method: 'GET', url: '/console/audit?action=staff.totp_reset&subjectType=&from=2000-01-01', headers: await html() });
    expect(filtered.statusCode).toBe(200);
    expect(filtered.body).toContain('staff.totp_reset');
    expect(filtered.body).not.toContain('>staff.created<');
  });

  it('names bad filters in an error summary', async () => {
    const bad = await t.inject({ method: 'GET', url: '/console/audit?actorId=nope&from=yesterday', headers: await html() });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('There is a problem');
  });

  it('sends a browser without a session to sign in, and answers other clients 401', async () => {
    expect((await t.inject({ method: 'GET', url: '/console/audit', headers: { accept: 'text/html' } })).headers.location).toBe('/console/sign-in');
    expect((await t.inject({ method: 'GET', url: '/console/audit' })).statusCode).toBe(401);
  });
});

describe('secrets stay secret', () => {
  /** Every way this file hands out a password, TOTP seed or recovery code, on accounts made for this one test. */
  async function everyHandOut(): Promise<string[]> {
    const handedOut: string[] = [];
    // Created in the console, enrolled with a password of their own.
    const enrolled = await consoleEnrolledMember(t);
    handedOut.push(enrolled.oneTime, enrolled.secret, ...enrolled.recovery, enrolled.newPassword);
    // A forgotten password reset in the console, then enrolment again.
    const { admin, member } = await adminAndMember(t);
    const reset = await admin.submit(`/console/staff/${member.staffId}`, `/console/staff/${member.staffId}/reset-sign-in`, {});
    const oneTime = /data-testid="one-time-password">([^<]+)</.exec(reset.body)![1];
    t.clock.advance(30_000);
    const at = await atEnrolment(t, member.email, oneTime);
    handedOut.push(oneTime, at.secret, 'member-chose-this-passphrase');
    await enrol(t, at, 'member-chose-this-passphrase');
    // Created and reset through the API.
    const adminApi = await createStaffWithSession(t, { role: 'admin' });
    const created = await t.inject({
      method: 'POST',
      url: '/api/staff',
      headers: adminApi.headers,
      payload: { email: `api-${randomUUID()}@example.com`, name: 'Api', role: 'viewer' },
    });
    const again = await t.inject({ method: 'POST', url: `/api/staff/${created.json().member.id}/reset-sign-in`, headers: adminApi.headers });
    handedOut.push(created.json().oneTimePassword, again.json().oneTimePassword);
    // Made by the CLI, with a generated and with a piped password, and signed in.
    const generated = await cliCreated(null);
    const piped = await cliCreated('piped-password-from-stdin\n', 'viewer');
    handedOut.push(generated.password!, generated.secret, ...generated.codes, 'piped-password-from-stdin', piped.secret);
    t.clock.advance(30_000);
    await signIn(t, browser(), { email: generated.email, password: generated.password!, secret: generated.secret });
    await signIn(t, browser(), { email: piped.email, password: 'piped-password-from-stdin', secret: piped.secret });
    return handedOut;
  }

  it('never writes passwords, TOTP seeds, codes or recovery codes to logs or audit rows', async () => {
    const secrets = await everyHandOut();
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
