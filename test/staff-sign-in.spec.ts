import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/staff/session.service.js';
import { SIGN_IN_FAILED } from '../src/staff/sign-in.service.js';
import { StaffHousekeeping } from '../src/staff/housekeeping.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Browser, code, enrolledStaff, handedOut, hiddenCsrf, signIn } from './support/staff.helpers.js';

let t: TestApp;
let ipSeq = 1;
/** Each test signs in from its own address, so the per-address limit of one test does not leak into the next. */
const browser = () => new Browser(t, `192.0.2.${ipSeq++}`);
const escaped = (s: string) => s.replace(/'/g, '&#39;');

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function auditActions(subjectId: string): Promise<string[]> {
  const rows = await t.prisma.auditEvent.findMany({ where: { subjectId }, orderBy: { occurredAt: 'asc' }, select: { action: true, seq: true } });
  return rows.sort((a, b) => Number(a.seq! - b.seq!)).map((r) => r.action);
}

describe('staff sign-in through the pages', () => {
  it('signs in with password and TOTP, lands on /console and reaches a console page', async () => {
    const s = await enrolledStaff(t, 'viewer');
    const b = browser();
    const page = await b.get('/console/sign-in');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="password"');
    const pw = await b.post('/console/sign-in', { _csrf: hiddenCsrf(page.body), email: ` ${s.email.toUpperCase()} `, password: s.password });
    expect(pw.statusCode).toBe(303);
    expect(pw.headers.location).toBe('/console/sign-in/second-factor');
    expect(Object.keys(b.jar).some((k) => k.includes('staff_session'))).toBe(false);
    expect(String(pw.headers['set-cookie'])).toMatch(/staff_pending=[^;]+;.*HttpOnly/i);
    const done = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(t, s.secret) });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/console');
    const setCookie = String(done.headers['set-cookie']);
    expect(setCookie).toMatch(/staff_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    const home = await b.get('/console');
    expect(home.headers.location).toBe('/console/home');
    const account = await b.get('/console/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(s.email);
    expect(await auditActions(s.staffId)).toEqual(['staff.created', 'staff.password_accepted', 'staff.signed_in']);
    // An already signed-in member is sent on from the sign-in page.
    expect((await b.get('/console/sign-in')).headers.location).toBe('/console');
  });

  it('says the same thing for a wrong password and an unknown email, and audits both without the password', async () => {
    const s = await enrolledStaff(t);
    const b = browser();
    const wrong = await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'not-the-password-1' });
    const unknown = await b.submit('/console/sign-in', '/console/sign-in', { email: 'nobody-here@example.com', password: 'not-the-password-2' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toContain(escaped(SIGN_IN_FAILED));
    expect(unknown.body).toContain(escaped(SIGN_IN_FAILED));
    expect(wrong.body).not.toContain('not-the-password');
    expect(await auditActions(s.staffId)).toEqual(['staff.created', 'staff.sign_in_failed']);
    const rows = await t.prisma.auditEvent.findMany({ where: { action: 'staff.sign_in_failed' }, select: { detail: true, subjectId: true, action: true } });
    expect(JSON.stringify(rows)).not.toMatch(/not-the-password|nobody-here/);
  });

  it('refuses a wrong TOTP code, and the same code (time step) a second time', async () => {
    const s = await enrolledStaff(t);
    const b = browser();
    const c = await code(t, s.secret);
    const wrongCode = c === '000000' ? '111111' : '000000';
    const bad = await signIn(t, b, s, wrongCode);
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain(escaped(SIGN_IN_FAILED));
    const ok = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: c });
    expect(ok.statusCode).toBe(303);

    const again = await signIn(t, browser(), s, c);
    expect(again.statusCode).toBe(401);
    // The next time step's code works.
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
    expect(await auditActions(s.staffId)).toContain('staff.sign_in_failed');
  });

  it('lets only one of two concurrent sign-ins with the same code through', async () => {
    const s = await enrolledStaff(t);
    const one = browser();
    const two = browser();
    for (const b of [one, two]) await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
    const c = await code(t, s.secret);
    const forms = await Promise.all([one, two].map(async (b) => hiddenCsrf((await b.get('/console/sign-in/second-factor')).body)));
    const [a, b] = await Promise.all([
      one.post('/console/sign-in/second-factor', { _csrf: forms[0], code: c }),
      two.post('/console/sign-in/second-factor', { _csrf: forms[1], code: c }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([303, 401]);
    // The same for one recovery code.
    t.clock.advance(30_000);
    const three = browser();
    const four = browser();
    for (const x of [three, four]) await x.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
    const forms2 = await Promise.all([three, four].map(async (x) => hiddenCsrf((await x.get('/console/sign-in/second-factor')).body)));
    const [r1, r2] = await Promise.all([
      three.post('/console/sign-in/second-factor', { _csrf: forms2[0], code: s.recoveryCodes[5] }),
      four.post('/console/sign-in/second-factor', { _csrf: forms2[1], code: s.recoveryCodes[5] }),
    ]);
    expect([r1.statusCode, r2.statusCode].sort()).toEqual([303, 401]);
  });

  it('accepts each recovery code once only', async () => {
    const s = await enrolledStaff(t);
    const [first, second] = s.recoveryCodes;
    expect((await signIn(t, browser(), s, first.toUpperCase())).statusCode).toBe(303);
    expect((await signIn(t, browser(), s, first)).statusCode).toBe(401);
    expect((await signIn(t, browser(), s, second.replace('-', ' '))).statusCode).toBe(303);
    const signedIn = await t.prisma.auditEvent.findMany({ where: { subjectId: s.staffId, action: 'staff.signed_in' } });
    expect(signedIn.map((e) => (e.detail as { method: string; recoveryCodesLeft: number }).recoveryCodesLeft).sort()).toEqual([8, 9]);
  });

  it('ends a pending sign-in after five wrong codes', async () => {
    const s = await enrolledStaff(t);
    const b = browser();
    await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
    const csrf = hiddenCsrf((await b.get('/console/sign-in/second-factor')).body);
    for (let i = 0; i < 5; i++) expect((await b.post('/console/sign-in/second-factor', { _csrf: csrf, code: 'zzzzz-zzzzz' })).statusCode).toBe(401);
    const last = await b.post('/console/sign-in/second-factor', { _csrf: csrf, code: await code(t, s.secret) });
    expect(last.statusCode).toBe(401);
    expect((await b.get('/console/sign-in/second-factor')).headers.location).toBe('/console/sign-in');
    // Five wrong codes also count against the account: it is locked for a minute.
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    t.clock.advance(61_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('locks an account after five failures, doubling, and lets it in again when the lock ends', async () => {
    const s = await enrolledStaff(t);
    for (let i = 0; i < 5; i++)
      expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `wrong-${i}-password` })).statusCode).toBe(401);
    // Locked: even the right password is refused, with the same message.
    const locked = await signIn(t, browser(), s);
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toContain(escaped(SIGN_IN_FAILED));
    const actions = await auditActions(s.staffId);
    expect(actions.filter((a) => a === 'staff.sign_in_locked')).toHaveLength(1);
    expect(actions).toContain('staff.sign_in_refused');

    t.clock.advance(61_000);
    // One more failure after the lock: locked again, now for two minutes.
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'wrong-again-password' })).statusCode).toBe(401);
    t.clock.advance(61_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    t.clock.advance(60_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
    // A completed sign-in clears the count: a single failure does not lock again.
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'one-more-wrong-pw' })).statusCode).toBe(401);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it("keeps the owner's known browser signing in while an attacker keeps the account locked", async () => {
    const s = await enrolledStaff(t);
    const owner = browser();
    expect((await signIn(t, owner, s)).statusCode).toBe(303);
    const device = Object.entries(owner.jar).find(([k]) => k.endsWith('staff_device'))!;
    expect(device[1].startsWith(`${s.staffId}.`)).toBe(true);
    await owner.submit('/console/account', '/console/sign-out', {});

    for (let i = 0; i < 6; i++) await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `attacker-${i}-guess` });
    t.clock.advance(30_000);
    // A browser without the cookie (or with a forged one) is locked out with the account...
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    const forger = browser();
    forger.jar[device[0]] = `${s.staffId}.forged.${'0'.repeat(64)}`;
    expect((await signIn(t, forger, s)).statusCode).toBe(401);
    // ...the owner's own browser is not.
    expect((await signIn(t, owner, s)).statusCode).toBe(303);
    const last = await t.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: s.staffId, action: 'staff.signed_in' },
      orderBy: { seq: 'desc' },
      select: { detail: true },
    });
    expect(last.detail).toMatchObject({ knownDevice: true });
  });

  it('never locks longer than 15 minutes, however long the attack goes on', async () => {
    const s = await enrolledStaff(t);
    for (let round = 0; round < 12; round++) {
      await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `attack-${round}-password` });
      t.clock.advance(15 * 60_000 + 1000);
    }
    const row = await t.prisma.staffLoginThrottle.findMany({ where: { key: { startsWith: 'account:' }, failures: { gte: 12 } } });
    expect(row).toHaveLength(1);
    expect(row[0].lockedUntil!.getTime() - t.clock.now().getTime()).toBeLessThanOrEqual(0);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('locks an address after twenty failures across accounts, and not the accounts themselves', async () => {
    const s = await enrolledStaff(t);
    const attacker = browser();
    for (let i = 0; i < 20; i++) {
      const r = await attacker.submit('/console/sign-in', '/console/sign-in', { email: `spray-${i}@example.com`, password: 'Winter2026!!!' });
      expect(r.statusCode).toBe(401);
    }
    // From that address even the right details are refused now...
    expect((await signIn(t, new Browser(t, attacker.ip), s)).statusCode).toBe(401);
    // ...but the member signs in from elsewhere,
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
    t.clock.advance(61_000);
    t.clock.advance(30_000);
    // ...and from the same address once the lock has passed.
    expect((await signIn(t, new Browser(t, attacker.ip), s)).statusCode).toBe(303);
    const locks = await t.prisma.auditEvent.findMany({ where: { action: 'staff.sign_in_locked', clientIp: attacker.ip } });
    expect(locks.map((l) => (l.detail as { scope: string }).scope)).toEqual(['ip']);
  });

  it('does not let concurrent attempts exceed the limit', async () => {
    const s = await enrolledStaff(t);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `parallel-${i}-wrong` })),
    );
    expect(results.every((r) => r.statusCode === 401)).toBe(true);
    const failed = await t.prisma.auditEvent.count({ where: { subjectId: s.staffId, action: 'staff.sign_in_failed' } });
    const refused = await t.prisma.auditEvent.count({ where: { subjectId: s.staffId, action: 'staff.sign_in_refused' } });
    // Exactly five attempts had their password checked; the rest were turned away by the lock.
    expect(failed).toBe(5);
    expect(refused).toBe(7);
  });
});

describe('JSON sign-in', () => {
  it('signs in with the same two steps and returns the CSRF token for API calls', async () => {
    const s = await enrolledStaff(t);
    const remoteAddress = `192.0.2.${ipSeq++}`;
    const step1 = await t.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email, password: s.password } });
    expect(step1.statusCode, step1.body).toBe(200);
    expect(step1.json().next).toBe('second_factor');
    const pending = step1.cookies.find((c) => c.name.endsWith('staff_pending'))!;
    const step2 = await t.inject({
      method: 'POST',
      url: '/api/session/second-factor',
      remoteAddress,
      cookies: { [pending.name]: pending.value },
      payload: { code: await code(t, s.secret) },
    });
    expect(step2.statusCode, step2.body).toBe(200);
    const session = step2.cookies.find((c) => c.name.endsWith('staff_session'))!;
    const headers = { cookie: `${session.name}=${session.value}`, 'x-csrf-token': step2.json().csrfToken };
    expect((await t.inject({ method: 'GET', url: '/api/staff/me', headers })).json().email).toBe(s.email);
    const out = await t.inject({ method: 'POST', url: '/api/staff/me/sign-out', headers });
    expect(out.statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/api/staff/me', headers })).statusCode).toBe(401);

    const wrong = await t.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email, password: 'wrong-password-here' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'auth/sign_in_failed', message: SIGN_IN_FAILED });
    expect(wrong.body).not.toContain('wrong-password-here');
    // A cross-site form cannot send JSON: a form-encoded post is refused before any password check.
    const form = await t.inject({
      method: 'POST',
      url: '/api/session',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: s.email, password: s.password }).toString(),
    });
    expect(form.statusCode).toBe(401);
  });
});

describe('staff housekeeping', () => {
  it('deletes forgotten throttle counters and long-expired pending sign-ins, but keeps live locks', async () => {
    const housekeeping = t.app.get(StaffHousekeeping);
    await housekeeping.purge(); // what earlier tests left behind
    const s = await enrolledStaff(t);
    const b = browser();
    await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
    for (let i = 0; i < 5; i++)
      await browser().submit('/console/sign-in', '/console/sign-in', { email: `purge-${i}@example.com`, password: 'whatever-password' });
    const before = await t.prisma.staffLoginThrottle.count();
    expect(before).toBeGreaterThanOrEqual(5);
    expect((await housekeeping.purge()).throttleRows).toBe(0);
    t.clock.advance(25 * 3600_000);
    const lockedKey = `account:manual-${Date.now()}`;
    await t.prisma.staffLoginThrottle.create({
      data: {
        key: lockedKey,
        failures: 9,
        lastFailureAt: new Date(t.clock.now().getTime() - 25 * 3600_000),
        lockedUntil: new Date(t.clock.now().getTime() + 60_000),
      },
    });
    const purged = await housekeeping.purge();
    expect(purged.throttleRows).toBeGreaterThanOrEqual(5);
    expect(purged.pendingLogins).toBeGreaterThanOrEqual(1);
    expect(await t.prisma.staffLoginThrottle.findUnique({ where: { key: lockedKey } })).not.toBeNull();
    expect(await t.prisma.staffPendingLogin.count({ where: { staffId: s.staffId } })).toBe(0);
  });
});

describe('staff sessions', () => {
  async function signedIn(role: 'viewer' | 'reviewer' | 'admin' = 'viewer') {
    const s = await enrolledStaff(t, role);
    const b = browser();
    expect((await signIn(t, b, s)).statusCode).toBe(303);
    return { s, b };
  }

  it('ends after 30 minutes idle', async () => {
    const { b } = await signedIn();
    t.clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await b.get('/console/account')).statusCode).toBe(200);
    t.clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await b.get('/console/account')).statusCode).toBe(200);
    t.clock.advance(SESSION_IDLE_MS + 1000);
    expect((await b.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('ends after 12 hours however busy', async () => {
    const { b } = await signedIn();
    for (let elapsed = 0; elapsed < SESSION_ABSOLUTE_MS - 20 * 60_000; elapsed += 20 * 60_000) {
      t.clock.advance(20 * 60_000);
      expect((await b.get('/console/account')).statusCode).toBe(200);
    }
    t.clock.advance(20 * 60_000);
    expect((await b.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('signs out this session only, and everywhere ends all of them', async () => {
    const s = await enrolledStaff(t);
    const one = browser();
    const two = browser();
    const three = browser();
    expect((await signIn(t, one, s)).statusCode).toBe(303);
    t.clock.advance(30_000);
    expect((await signIn(t, two, s)).statusCode).toBe(303);
    t.clock.advance(30_000);
    expect((await signIn(t, three, s)).statusCode).toBe(303);

    const out = await one.submit('/console/account', '/console/sign-out', {});
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in');
    expect((await one.get('/console/account')).headers.location).toBe('/console/sign-in');
    expect((await two.get('/console/account')).statusCode).toBe(200);

    const everywhere = await two.submit('/console/account', '/console/account/sign-out-everywhere', {});
    expect(everywhere.statusCode).toBe(303);
    expect((await two.get('/console/account')).headers.location).toBe('/console/sign-in');
    expect((await three.get('/console/account')).headers.location).toBe('/console/sign-in');
    const actions = await auditActions(s.staffId);
    expect(actions).toContain('staff.signed_out');
    expect(actions).toContain('staff.signed_out_everywhere');
  });

  it('refuses a state-changing console post without the CSRF token', async () => {
    const { b } = await signedIn();
    const noToken = await b.post('/console/account/sign-out-everywhere', {});
    expect(noToken.statusCode).toBe(403);
    expect(noToken.body).toContain('auth/csrf_failed');
    const wrongToken = await b.post('/console/sign-out', { _csrf: 'f'.repeat(64) });
    expect(wrongToken.statusCode).toBe(403);
    expect((await b.get('/console/account')).statusCode).toBe(200);
  });

  it('refuses a sign-in form posted without the pre-session cookie (login CSRF)', async () => {
    const s = await enrolledStaff(t);
    const victim = browser();
    const page = await victim.get('/console/sign-in');
    // The attacker's page posts the form cross-site: SameSite=Strict keeps the cookie off the request.
    const forged = await new Browser(t, victim.ip).post('/console/sign-in', { _csrf: hiddenCsrf(page.body), email: s.email, password: s.password });
    expect(forged.statusCode).toBe(403);
    const mismatched = await victim.post('/console/sign-in', { _csrf: '0'.repeat(64), email: s.email, password: s.password });
    expect(mismatched.statusCode).toBe(403);
  });

  it('regenerates recovery codes only with a current unused TOTP code', async () => {
    const { s, b } = await signedIn();
    const used = await code(t, s.secret);
    const refused = await b.submit('/console/account', '/console/account/recovery-codes', { code: used });
    expect(refused.statusCode).toBe(401);
    t.clock.advance(30_000);
    const ok = await b.submit('/console/account', '/console/account/recovery-codes', { code: await code(t, s.secret) });
    expect(ok.statusCode).toBe(200);
    const fresh = [...ok.body.matchAll(/<code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]);
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(s.recoveryCodes[0]);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s, s.recoveryCodes[0])).statusCode).toBe(401);
    expect((await signIn(t, browser(), s, fresh[0])).statusCode).toBe(303);
  });

  it('audits wrong codes for new recovery codes like failed sign-ins: the lock they set, and the refusals while locked', async () => {
    const { s, b } = await signedIn();
    const right = await code(t, s.secret);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 6; i++) {
      expect((await b.submit('/console/account', '/console/account/recovery-codes', { code: wrong })).statusCode).toBe(401);
    }
    const locked = await b.submit('/console/account', '/console/account/recovery-codes', { code: right });
    expect(locked.statusCode).toBe(401);
    const rows = await t.prisma.auditEvent.findMany({
      where: { subjectId: s.staffId, action: { in: ['staff.recovery_codes_refused', 'staff.sign_in_locked'] } },
      select: { action: true, detail: true },
    });
    const reasons = rows.filter((r) => r.action === 'staff.recovery_codes_refused').map((r) => (r.detail as { reason: string }).reason);
    expect(reasons.filter((r) => r === 'wrong_or_used_totp')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'locked')).toHaveLength(2);
    expect(rows.filter((r) => r.action === 'staff.sign_in_locked').map((r) => (r.detail as { scope: string }).scope)).toEqual(['account']);
  });
});

describe('staff cookies over https', () => {
  it('are __Host- prefixed, Secure, HttpOnly and SameSite=Strict', async () => {
    const secure = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://credentials.example.com' } });
    try {
      const s = await enrolledStaff(secure);
      const b = new Browser(secure);
      const page = await b.get('/console/sign-in');
      expect(String(page.headers['set-cookie'])).toMatch(/^__Host-staff_signin=[^;]+;.*Path=\/;.*HttpOnly;.*Secure;.*SameSite=Strict/);
      const pw = await b.post('/console/sign-in', { _csrf: hiddenCsrf(page.body), email: s.email, password: s.password });
      expect(String(pw.headers['set-cookie'])).toMatch(/__Host-staff_pending=[^;]+;.*HttpOnly;.*Secure;.*SameSite=Strict/);
      const done = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(secure, s.secret) });
      const cookies = String(done.headers['set-cookie']);
      expect(cookies).toMatch(/__Host-staff_session=[^;]+;.*Path=\/;.*HttpOnly;.*Secure;.*SameSite=Strict/);
      expect((await b.get('/console/account')).statusCode).toBe(200);
    } finally {
      await secure.close();
    }
  });
});

describe('secrets stay secret', () => {
  it('leaves no password, TOTP seed or recovery code of this file in the logs, audit rows or account rows', async () => {
    expect(handedOut.length).toBeGreaterThan(100);
    const logs = t.logs.join('\n');
    const admin = await t.db.admin();
    const rows = (
      await admin.query(
        `SELECT detail::text AS t FROM audit_event UNION ALL SELECT password_hash || coalesce(totp_secret_enc, '') FROM staff_account UNION ALL SELECT ` +
          `code_hash FROM staff_recovery_code UNION ALL SELECT coalesce(totp_secret_enc, '') FROM staff_pending_login`,
      )
    ).rows
      .map((r) => r.t)
      .join('\n');
    await admin.end();
    for (const secret of handedOut) {
      expect(logs.includes(secret), `log leaks ${secret.slice(0, 3)}…`).toBe(false);
      expect(rows.includes(secret), `database holds ${secret.slice(0, 3)}… in plaintext`).toBe(false);
    }
  });
});
