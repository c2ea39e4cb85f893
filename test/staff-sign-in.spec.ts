import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/staff/session.service.js';
import { SIGN_IN_FAILED } from '../src/staff/sign-in.service.js';
import { StaffHousekeeping } from '../src/staff/housekeeping.js';
import { startTestApp, type TestApp } from './support/app.js';
import {
  accountThrottleKey,
  freshBrowser,
  jsonSignIn,
  signedInStaff,
  twoPendingSignIns,
  wrongCodesAfterPassword,
  wrongPasswords,
} from './support/staff.factories.js';
import { Browser, code, enrolledStaff, hiddenCsrf, signIn, type EnrolledStaff } from './support/staff.helpers.js';

let t: TestApp;
/** Each browser signs in from an address of its own, so the per-address limit of one test does not reach the next. */
const browser = () => freshBrowser(t);
const escaped = (s: string) => s.replace(/'/g, '&#39;');

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function auditActions(subjectId: string): Promise<string[]> {
  const rows = await t.prisma.auditEvent.findMany({ where: { subjectId }, orderBy: { occurredAt: 'asc' }, select: { action: true, seq: true } });
  return rows.sort((a, b) => Number(a.seq! - b.seq!)).map((r) => r.action);
}

/** Some code other than the current one. */
async function wrongCodeFor(s: EnrolledStaff): Promise<string> {
  return (await code(t, s.secret)) === '000000' ? '111111' : '000000';
}

/** Passes the password step of `s` in `b`, as a member typing their email with capitals and spaces around it. */
async function passwordStep(b: Browser, s: EnrolledStaff) {
  const page = await b.get('/console/sign-in');
  return b.post('/console/sign-in', { _csrf: hiddenCsrf(page.body), email: ` ${s.email.toUpperCase()} `, password: s.password });
}

describe('staff sign-in through the pages', () => {
  it('shows the sign-in form', async () => {
    const page = await browser().get('/console/sign-in');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="password"');
  });

  it('asks for the second factor after the right password, whatever the case and spaces of the email, without a session yet', async () => {
    const s = await enrolledStaff(t, 'viewer');
    const b = browser();
    const pw = await passwordStep(b, s);
    expect(pw.statusCode).toBe(303);
    expect(pw.headers.location).toBe('/console/sign-in/second-factor');
    expect(Object.keys(b.jar).some((k) => k.includes('staff_session'))).toBe(false);
    expect(String(pw.headers['set-cookie'])).toMatch(/staff_pending=[^;]+;.*HttpOnly/i);
  });

  it('lands on /console with a strict HttpOnly session cookie after the right TOTP code', async () => {
    const s = await enrolledStaff(t, 'viewer');
    const b = browser();
    await passwordStep(b, s);
    const done = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(t, s.secret) });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/console');
    const setCookie = String(done.headers['set-cookie']);
    expect(setCookie).toMatch(/staff_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
  });

  it('reaches console pages once signed in', async () => {
    const { s, b } = await signedInStaff(t, 'viewer');
    const home = await b.get('/console');
    expect(home.headers.location).toBe('/console/home');
    const account = await b.get('/console/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(s.email);
  });

  it('audits the accepted password and the sign-in, in that order', async () => {
    const { s } = await signedInStaff(t, 'viewer');
    expect(await auditActions(s.staffId)).toEqual(['staff.created', 'staff.password_accepted', 'staff.signed_in']);
  });

  it('sends an already signed-in member on from the sign-in page', async () => {
    const { b } = await signedInStaff(t, 'viewer');
    expect((await b.get('/console/sign-in')).headers.location).toBe('/console');
  });

  it('answers a wrong password with the general message, without echoing the password', async () => {
    const s = await enrolledStaff(t);
    const wrong = await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'not-the-password-1' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain(escaped(SIGN_IN_FAILED));
    expect(wrong.body).not.toContain('not-the-password');
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const unknown = await browser().submit('/console/sign-in', '/console/sign-in', {
      email: `nobody-${randomUUID()}@example.com`,
      password: 'not-the-password-2',
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body).toContain(escaped(SIGN_IN_FAILED));
  });

  it('audits a wrong password as a failed sign-in', async () => {
    const s = await enrolledStaff(t);
    await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'not-the-password-1' });
    expect(await auditActions(s.staffId)).toEqual(['staff.created', 'staff.sign_in_failed']);
  });

  it('keeps typed passwords and unknown emails out of the failed sign-in audit rows', async () => {
    const s = await enrolledStaff(t);
    const typed = `not-the-password-${randomUUID()}`;
    const nobody = `nobody-here-${randomUUID()}@example.com`;
    await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: typed });
    await browser().submit('/console/sign-in', '/console/sign-in', { email: nobody, password: typed });
    const rows = await t.prisma.auditEvent.findMany({ where: { action: 'staff.sign_in_failed' }, select: { detail: true, subjectId: true, action: true } });
    expect(JSON.stringify(rows)).not.toMatch(new RegExp(`${typed}|${nobody}`));
  });

  it('refuses a wrong TOTP code with the general message', async () => {
    const s = await enrolledStaff(t);
    const bad = await signIn(t, browser(), s, await wrongCodeFor(s));
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain(escaped(SIGN_IN_FAILED));
  });

  it('accepts the right code on the same pending sign-in after a wrong one', async () => {
    const s = await enrolledStaff(t);
    const b = browser();
    await signIn(t, b, s, await wrongCodeFor(s));
    const ok = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(t, s.secret) });
    expect(ok.statusCode).toBe(303);
  });

  it('audits a wrong TOTP code as a failed sign-in', async () => {
    const s = await enrolledStaff(t);
    await signIn(t, browser(), s, await wrongCodeFor(s));
    expect(await auditActions(s.staffId)).toContain('staff.sign_in_failed');
  });

  it('refuses the same TOTP code (time step) a second time', async () => {
    const s = await enrolledStaff(t);
    const c = await code(t, s.secret);
    expect((await signIn(t, browser(), s, c)).statusCode).toBe(303);
    const again = await signIn(t, browser(), s, c);
    expect(again.statusCode).toBe(401);
  });

  it("accepts the next time step's code after one was used", async () => {
    const s = await enrolledStaff(t);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('lets only one of two concurrent sign-ins with the same TOTP code through', async () => {
    const s = await enrolledStaff(t);
    const [one, two] = await twoPendingSignIns(t, s);
    const c = await code(t, s.secret);
    const [a, b] = await Promise.all([
      one.b.post('/console/sign-in/second-factor', { _csrf: one.csrf, code: c }),
      two.b.post('/console/sign-in/second-factor', { _csrf: two.csrf, code: c }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([303, 401]);
  });

  it('lets only one of two concurrent sign-ins with the same recovery code through', async () => {
    const s = await enrolledStaff(t);
    const [three, four] = await twoPendingSignIns(t, s);
    const [r1, r2] = await Promise.all([
      three.b.post('/console/sign-in/second-factor', { _csrf: three.csrf, code: s.recoveryCodes[5] }),
      four.b.post('/console/sign-in/second-factor', { _csrf: four.csrf, code: s.recoveryCodes[5] }),
    ]);
    expect([r1.statusCode, r2.statusCode].sort()).toEqual([303, 401]);
  });

  it('accepts a recovery code in capitals', async () => {
    const s = await enrolledStaff(t);
    expect((await signIn(t, browser(), s, s.recoveryCodes[0].toUpperCase())).statusCode).toBe(303);
  });

  it('accepts a recovery code typed with a space for its dash', async () => {
    const s = await enrolledStaff(t);
    expect((await signIn(t, browser(), s, s.recoveryCodes[1].replace('-', ' '))).statusCode).toBe(303);
  });

  it('refuses a recovery code used before', async () => {
    const s = await enrolledStaff(t);
    expect((await signIn(t, browser(), s, s.recoveryCodes[0])).statusCode).toBe(303);
    expect((await signIn(t, browser(), s, s.recoveryCodes[0])).statusCode).toBe(401);
  });

  it('audits how many recovery codes are left after each use', async () => {
    const s = await enrolledStaff(t);
    const [first, second] = s.recoveryCodes;
    expect((await signIn(t, browser(), s, first)).statusCode).toBe(303);
    expect((await signIn(t, browser(), s, second)).statusCode).toBe(303);
    const signedIn = await t.prisma.auditEvent.findMany({ where: { subjectId: s.staffId, action: 'staff.signed_in' } });
    expect(signedIn.map((e) => (e.detail as { method: string; recoveryCodesLeft: number }).recoveryCodesLeft).sort()).toEqual([8, 9]);
  });
});

describe('sign-in limits', () => {
  it('ends a pending sign-in after five wrong codes, refusing even the right one', async () => {
    const s = await enrolledStaff(t);
    const { b, csrf, responses } = await wrongCodesAfterPassword(t, s, 5);
    for (const r of responses) expect(r.statusCode).toBe(401);
    const last = await b.post('/console/sign-in/second-factor', { _csrf: csrf, code: await code(t, s.secret) });
    expect(last.statusCode).toBe(401);
    expect((await b.get('/console/sign-in/second-factor')).headers.location).toBe('/console/sign-in');
  });

  it('locks the account for a minute after five wrong codes', async () => {
    const s = await enrolledStaff(t);
    await wrongCodesAfterPassword(t, s, 5);
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    t.clock.advance(61_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('locks an account after five wrong passwords, refusing even the right one with the same message', async () => {
    const s = await enrolledStaff(t);
    for (const r of await wrongPasswords(t, s.email, 5)) expect(r.statusCode).toBe(401);
    const locked = await signIn(t, browser(), s);
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toContain(escaped(SIGN_IN_FAILED));
  });

  it('audits the lock once and the refusals while locked', async () => {
    const s = await enrolledStaff(t);
    await wrongPasswords(t, s.email, 5);
    await signIn(t, browser(), s);
    const actions = await auditActions(s.staffId);
    expect(actions.filter((a) => a === 'staff.sign_in_locked')).toHaveLength(1);
    expect(actions).toContain('staff.sign_in_refused');
  });

  it('doubles the lock to two minutes for one more failure after the first lock ended', async () => {
    const s = await enrolledStaff(t);
    await wrongPasswords(t, s.email, 5);
    t.clock.advance(61_000);
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'wrong-again-password' })).statusCode).toBe(401);
    t.clock.advance(61_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    t.clock.advance(60_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('clears the failure count on a completed sign-in', async () => {
    const s = await enrolledStaff(t);
    await wrongPasswords(t, s.email, 4);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
    // Without the reset this would be the fifth failure in a row, and lock the account.
    expect((await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: 'one-more-wrong-pw' })).statusCode).toBe(401);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('never locks longer than 15 minutes, however long the attack goes on', async () => {
    const s = await enrolledStaff(t);
    for (let round = 0; round < 12; round++) {
      await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `attack-${round}-password` });
      t.clock.advance(15 * 60_000 + 1000);
    }
    const row = await t.prisma.staffLoginThrottle.findMany({ where: { key: accountThrottleKey(t, s.email), failures: { gte: 12 } } });
    expect(row).toHaveLength(1);
    expect(row[0].lockedUntil!.getTime() - t.clock.now().getTime()).toBeLessThanOrEqual(0);
    t.clock.advance(30_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
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

describe('the known-device cookie', () => {
  /** The owner signed in (and out) once in their browser; then an attacker guessed six times and locked the account. */
  async function ownerUnderAttack() {
    const s = await enrolledStaff(t);
    const owner = browser();
    expect((await signIn(t, owner, s)).statusCode).toBe(303);
    const device = Object.entries(owner.jar).find(([k]) => k.endsWith('staff_device'))!;
    await owner.submit('/console/account', '/console/sign-out', {});
    for (let i = 0; i < 6; i++) await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: `attacker-${i}-guess` });
    t.clock.advance(30_000);
    return { s, owner, device };
  }

  it('is bound to the account it signed in', async () => {
    const { s, b } = await signedInStaff(t);
    const device = Object.entries(b.jar).find(([k]) => k.endsWith('staff_device'))!;
    expect(device[1].startsWith(`${s.staffId}.`)).toBe(true);
  });

  it("keeps the owner's known browser signing in while an attacker keeps the account locked", async () => {
    const { s, owner } = await ownerUnderAttack();
    expect((await signIn(t, owner, s)).statusCode).toBe(303);
    const last = await t.prisma.auditEvent.findFirstOrThrow({
      where: { subjectId: s.staffId, action: 'staff.signed_in' },
      orderBy: { seq: 'desc' },
      select: { detail: true },
    });
    expect(last.detail).toMatchObject({ knownDevice: true });
  });

  it('does not spare a browser without the cookie from the lock', async () => {
    const { s } = await ownerUnderAttack();
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
  });

  it('does not spare a browser with a forged cookie from the lock', async () => {
    const { s, device } = await ownerUnderAttack();
    const forger = browser();
    forger.jar[device[0]] = `${s.staffId}.forged.${'0'.repeat(64)}`;
    expect((await signIn(t, forger, s)).statusCode).toBe(401);
  });
});

describe('the per-address limit', () => {
  /** Twenty wrong passwords for twenty unknown accounts from one address. */
  async function spray() {
    const attacker = browser();
    const responses = [];
    for (let i = 0; i < 20; i++) {
      responses.push(await attacker.submit('/console/sign-in', '/console/sign-in', { email: `spray-${randomUUID()}@example.com`, password: 'Winter2026!!!' }));
    }
    return { ip: attacker.ip, responses };
  }

  it('locks an address after twenty failures across accounts, even for the right details', async () => {
    const s = await enrolledStaff(t);
    const { ip, responses } = await spray();
    for (const r of responses) expect(r.statusCode).toBe(401);
    expect((await signIn(t, new Browser(t, ip), s)).statusCode).toBe(401);
  });

  it('does not lock the member out elsewhere', async () => {
    const s = await enrolledStaff(t);
    await spray();
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('lets the address in again once its lock has passed', async () => {
    const s = await enrolledStaff(t);
    const { ip } = await spray();
    t.clock.advance(61_000);
    t.clock.advance(30_000);
    expect((await signIn(t, new Browser(t, ip), s)).statusCode).toBe(303);
  });

  it('audits one lock, of the address and not of the accounts', async () => {
    const { ip } = await spray();
    const locks = await t.prisma.auditEvent.findMany({ where: { action: 'staff.sign_in_locked', clientIp: ip } });
    expect(locks.map((l) => (l.detail as { scope: string }).scope)).toEqual(['ip']);
  });
});

describe('JSON sign-in', () => {
  it('signs in with the same two steps', async () => {
    const s = await enrolledStaff(t);
    const { step1, step2, headers } = await jsonSignIn(t, s, await code(t, s.secret));
    expect(step1.statusCode, step1.body).toBe(200);
    expect(step1.json().next).toBe('second_factor');
    expect(step2.statusCode, step2.body).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/api/staff/me', headers })).json().email).toBe(s.email);
  });

  it('returns the CSRF token that signing out through the API needs, and signing out ends the session', async () => {
    const s = await enrolledStaff(t);
    const { headers } = await jsonSignIn(t, s, await code(t, s.secret));
    const out = await t.inject({ method: 'POST', url: '/api/staff/me/sign-out', headers });
    expect(out.statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/api/staff/me', headers })).statusCode).toBe(401);
  });

  it('answers a wrong password with the general error, without echoing it', async () => {
    const s = await enrolledStaff(t);
    const wrong = await t.inject({
      method: 'POST',
      url: '/api/session',
      remoteAddress: browser().ip,
      payload: { email: s.email, password: 'wrong-password-here' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'auth/sign_in_failed', message: SIGN_IN_FAILED });
    expect(wrong.body).not.toContain('wrong-password-here');
  });

  it('refuses a form-encoded post (what a cross-site form sends) before any password check', async () => {
    const s = await enrolledStaff(t);
    const form = await t.inject({
      method: 'POST',
      url: '/api/session',
      remoteAddress: browser().ip,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: s.email, password: s.password }).toString(),
    });
    expect(form.statusCode).toBe(401);
  });
});

describe('staff housekeeping', () => {
  /** After a purge of what other tests left: a pending sign-in of `s` and failure counters for five unknown emails. */
  async function forgottenAttempts() {
    const housekeeping = t.app.get(StaffHousekeeping);
    await housekeeping.purge();
    const s = await enrolledStaff(t);
    await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
    for (let i = 0; i < 5; i++) {
      await browser().submit('/console/sign-in', '/console/sign-in', { email: `purge-${randomUUID()}@example.com`, password: 'whatever-password' });
    }
    return { housekeeping, s };
  }

  it('keeps throttle counters of the last day', async () => {
    const { housekeeping } = await forgottenAttempts();
    expect(await t.prisma.staffLoginThrottle.count()).toBeGreaterThanOrEqual(5);
    expect((await housekeeping.purge()).throttleRows).toBe(0);
  });

  it('deletes throttle counters forgotten for a day', async () => {
    const { housekeeping } = await forgottenAttempts();
    t.clock.advance(25 * 3600_000);
    expect((await housekeeping.purge()).throttleRows).toBeGreaterThanOrEqual(5);
  });

  it('deletes long-expired pending sign-ins', async () => {
    const { housekeeping, s } = await forgottenAttempts();
    t.clock.advance(25 * 3600_000);
    expect((await housekeeping.purge()).pendingLogins).toBeGreaterThanOrEqual(1);
    expect(await t.prisma.staffPendingLogin.count({ where: { staffId: s.staffId } })).toBe(0);
  });

  it('keeps a live lock however long ago its last failure was', async () => {
    const housekeeping = t.app.get(StaffHousekeeping);
    const lockedKey = `account:manual-${randomUUID()}`;
    await t.prisma.staffLoginThrottle.create({
      data: {
        key: lockedKey,
        failures: 9,
        lastFailureAt: new Date(t.clock.now().getTime() - 25 * 3600_000),
        lockedUntil: new Date(t.clock.now().getTime() + 60_000),
      },
    });
    await housekeeping.purge();
    expect(await t.prisma.staffLoginThrottle.findUnique({ where: { key: lockedKey } })).not.toBeNull();
  });
});

describe('staff sessions', () => {
  /** One member signed in in three browsers, a time step apart. */
  async function threeSessions() {
    const s = await enrolledStaff(t);
    const browsers = [browser(), browser(), browser()];
    for (const b of browsers) {
      expect((await signIn(t, b, s)).statusCode).toBe(303);
      t.clock.advance(30_000);
    }
    return { s, browsers };
  }

  it('ends after 30 minutes idle, and not while in use', async () => {
    const { b } = await signedInStaff(t);
    t.clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await b.get('/console/account')).statusCode).toBe(200);
    t.clock.advance(SESSION_IDLE_MS - 60_000);
    expect((await b.get('/console/account')).statusCode).toBe(200);
    t.clock.advance(SESSION_IDLE_MS + 1000);
    expect((await b.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('ends after 12 hours however busy', async () => {
    const { b } = await signedInStaff(t);
    for (let elapsed = 0; elapsed < SESSION_ABSOLUTE_MS - 20 * 60_000; elapsed += 20 * 60_000) {
      t.clock.advance(20 * 60_000);
      expect((await b.get('/console/account')).statusCode).toBe(200);
    }
    t.clock.advance(20 * 60_000);
    expect((await b.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('signs out this session only', async () => {
    const {
      browsers: [one, two],
    } = await threeSessions();
    const out = await one.submit('/console/account', '/console/sign-out', {});
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in');
    expect((await one.get('/console/account')).headers.location).toBe('/console/sign-in');
    expect((await two.get('/console/account')).statusCode).toBe(200);
  });

  it('signs out everywhere, ending every session of the member', async () => {
    const {
      browsers: [one, two, three],
    } = await threeSessions();
    const everywhere = await two.submit('/console/account', '/console/account/sign-out-everywhere', {});
    expect(everywhere.statusCode).toBe(303);
    for (const b of [one, two, three]) expect((await b.get('/console/account')).headers.location).toBe('/console/sign-in');
  });

  it('audits signing out and signing out everywhere', async () => {
    const {
      s,
      browsers: [one, two],
    } = await threeSessions();
    await one.submit('/console/account', '/console/sign-out', {});
    await two.submit('/console/account', '/console/account/sign-out-everywhere', {});
    const actions = await auditActions(s.staffId);
    expect(actions).toContain('staff.signed_out');
    expect(actions).toContain('staff.signed_out_everywhere');
  });

  it('refuses a state-changing console post without the CSRF token', async () => {
    const { b } = await signedInStaff(t);
    const noToken = await b.post('/console/account/sign-out-everywhere', {});
    expect(noToken.statusCode).toBe(403);
    expect(noToken.body).toContain('auth/csrf_failed');
  });

  it('refuses a console post with a wrong CSRF token, and the session goes on', async () => {
    const { b } = await signedInStaff(t);
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
  });

  it('refuses a sign-in form whose token does not match its pre-session cookie', async () => {
    const s = await enrolledStaff(t);
    const victim = browser();
    await victim.get('/console/sign-in');
    const mismatched = await victim.post('/console/sign-in', { _csrf: '0'.repeat(64), email: s.email, password: s.password });
    expect(mismatched.statusCode).toBe(403);
  });
});

describe('new recovery codes', () => {
  /** A signed-in member who made new recovery codes with the next time step's code. */
  async function regenerated() {
    const { s, b } = await signedInStaff(t);
    t.clock.advance(30_000);
    const ok = await b.submit('/console/account', '/console/account/recovery-codes', { code: await code(t, s.secret) });
    const fresh = [...ok.body.matchAll(/<code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]);
    t.clock.advance(30_000);
    return { s, ok, fresh };
  }

  it('are refused for the TOTP code already used to sign in', async () => {
    const { s, b } = await signedInStaff(t);
    const used = await code(t, s.secret);
    const refused = await b.submit('/console/account', '/console/account/recovery-codes', { code: used });
    expect(refused.statusCode).toBe(401);
  });

  it('are ten fresh codes for a current unused TOTP code', async () => {
    const { s, ok, fresh } = await regenerated();
    expect(ok.statusCode).toBe(200);
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(s.recoveryCodes[0]);
  });

  it('retire the old recovery codes', async () => {
    const { s } = await regenerated();
    expect((await signIn(t, browser(), s, s.recoveryCodes[0])).statusCode).toBe(401);
  });

  it('sign in in place of the old ones', async () => {
    const { s, fresh } = await regenerated();
    expect((await signIn(t, browser(), s, fresh[0])).statusCode).toBe(303);
  });

  it('are locked after five wrong TOTP codes, even for the right one', async () => {
    const { s, b } = await signedInStaff(t);
    const right = await code(t, s.secret);
    for (let i = 0; i < 6; i++) {
      expect((await b.submit('/console/account', '/console/account/recovery-codes', { code: await wrongCodeFor(s) })).statusCode).toBe(401);
    }
    const locked = await b.submit('/console/account', '/console/account/recovery-codes', { code: right });
    expect(locked.statusCode).toBe(401);
  });

  it('audit wrong codes like failed sign-ins: the lock they set, and the refusals while locked', async () => {
    const { s, b } = await signedInStaff(t);
    const right = await code(t, s.secret);
    for (let i = 0; i < 6; i++) await b.submit('/console/account', '/console/account/recovery-codes', { code: await wrongCodeFor(s) });
    await b.submit('/console/account', '/console/account/recovery-codes', { code: right });
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
  /**
   * The flows of this file, on accounts enrolled for this one test: every password, TOTP seed and recovery code
   * they hand out, and every wrong password typed, goes into `handedOut`.
   */
  async function everyFlow(handedOut: string[]) {
    const enrol = (role: 'viewer' | 'reviewer' | 'admin' = 'reviewer') => enrolledStaff(t, role, { handedOut });
    const typed = () => {
      const p = `typed-${randomUUID()}`;
      handedOut.push(p);
      return p;
    };
    // Through the pages, the account page, signing out here and everywhere.
    const { b } = await signedInStaff(t, 'viewer', { handedOut });
    await b.get('/console/account');
    await b.submit('/console/account', '/console/account/sign-out-everywhere', {});
    await enrol('admin').then((admin) => signIn(t, browser(), admin));
    // A wrong password, an unknown email, a wrong TOTP code, a replayed one.
    const s = await enrol();
    await browser().submit('/console/sign-in', '/console/sign-in', { email: s.email, password: typed() });
    await browser().submit('/console/sign-in', '/console/sign-in', { email: `nobody-${randomUUID()}@example.com`, password: typed() });
    const wrongTotp = browser();
    await signIn(t, wrongTotp, s, await wrongCodeFor(s));
    await wrongTotp.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(t, s.secret) });
    await signIn(t, browser(), s, await code(t, s.secret));
    // Recovery codes: used, reused, raced.
    const r = await enrol();
    await signIn(t, browser(), r, r.recoveryCodes[0].toUpperCase());
    await signIn(t, browser(), r, r.recoveryCodes[0]);
    const race = await twoPendingSignIns(t, r);
    await Promise.all(race.map(({ b: x, csrf }) => x.post('/console/sign-in/second-factor', { _csrf: csrf, code: r.recoveryCodes[5] })));
    // Locks: wrong codes, wrong passwords, the right password while locked, a pending sign-in left behind.
    await wrongCodesAfterPassword(t, await enrol(), 5);
    const locked = await enrol();
    for (let i = 0; i < 5; i++) await browser().submit('/console/sign-in', '/console/sign-in', { email: locked.email, password: typed() });
    await signIn(t, browser(), locked);
    const pending = await enrol();
    await browser().submit('/console/sign-in', '/console/sign-in', { email: pending.email, password: pending.password });
    // JSON sign-in, signing out, a wrong password.
    const j = await enrol();
    const { headers } = await jsonSignIn(t, j, await code(t, j.secret));
    await t.inject({ method: 'POST', url: '/api/staff/me/sign-out', headers });
    await t.inject({ method: 'POST', url: '/api/session', remoteAddress: browser().ip, payload: { email: j.email, password: typed() } });
    // New recovery codes, and wrong codes for them.
    const { s: n, b: nb } = await signedInStaff(t, 'viewer', { handedOut });
    t.clock.advance(30_000);
    const made = await nb.submit('/console/account', '/console/account/recovery-codes', { code: await code(t, n.secret) });
    handedOut.push(...[...made.body.matchAll(/<code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]));
    for (let i = 0; i < 6; i++) await nb.submit('/console/account', '/console/account/recovery-codes', { code: await wrongCodeFor(n) });
  }

  it('leaves no password, TOTP seed or recovery code in the logs, audit rows or account rows', async () => {
    const handedOut: string[] = [];
    await everyFlow(handedOut);
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
