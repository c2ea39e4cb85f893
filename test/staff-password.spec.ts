import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_CHANGE_REFUSED } from '../src/staff/password-change.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Browser, code, enrolledStaff, hiddenCsrf, signIn, type EnrolledStaff } from './support/staff.helpers.js';

let t: TestApp;
let ipSeq = 1;
const browser = () => new Browser(t, `203.0.113.${ipSeq++}`);
const escaped = (s: string) => s.replace(/'/g, '&#39;');

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function signedIn(s: EnrolledStaff): Promise<Browser> {
  const b = browser();
  expect((await signIn(t, b, s)).statusCode).toBe(303);
  // The sign-in used this 30-second step; a change needs a code it has not seen.
  t.clock.advance(31_000);
  return b;
}

async function change(b: Browser, form: Record<string, string>) {
  return b.submit('/console/account', '/console/account/password', form);
}

async function actions(staffId: string): Promise<string[]> {
  const rows = await t.prisma.auditEvent.findMany({ where: { subjectId: staffId }, select: { action: true, seq: true, detail: true } });
  return rows.sort((a, b) => Number(a.seq! - b.seq!)).map((r) => r.action);
}

describe('staff change their own password', () => {
  it('refuses a wrong current password, and says nothing about which part was wrong', async () => {
    const s = await enrolledStaff(t);
    const b = await signedIn(s);
    const res = await change(b, {
      currentPassword: 'not-my-password-at-all',
      passwordCode: await code(t, s.secret),
      newPassword: 'a-new-long-passphrase',
      confirmPassword: 'a-new-long-passphrase',
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain(escaped(PASSWORD_CHANGE_REFUSED));
    expect(res.body).toMatch(/class="error-summary"[^>]*autofocus/);
    expect(res.body).toContain('href="#currentPassword"');
    expect((await actions(s.staffId)).at(-1)).toBe('staff.password_change_refused');
    const row = await t.prisma.auditEvent.findFirst({ where: { subjectId: s.staffId, action: 'staff.password_change_refused' } });
    expect(row!.detail).toEqual({ reason: 'wrong_password' });
    expect(JSON.stringify(row!.detail)).not.toContain('not-my-password-at-all');
    // The old password still signs in.
    expect((await signIn(t, browser(), s)).statusCode).toBe(303);
  });

  it('refuses a wrong TOTP code with the same message', async () => {
    const s = await enrolledStaff(t);
    const b = await signedIn(s);
    const right = await code(t, s.secret);
    const wrong = right === '000000' ? '111111' : '000000';
    const res = await change(b, {
      currentPassword: s.password,
      passwordCode: wrong,
      newPassword: 'a-new-long-passphrase',
      confirmPassword: 'a-new-long-passphrase',
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain(escaped(PASSWORD_CHANGE_REFUSED));
    const row = await t.prisma.auditEvent.findFirst({ where: { subjectId: s.staffId, action: 'staff.password_change_refused' } });
    expect(row!.detail).toEqual({ reason: 'wrong_or_used_totp' });
  });

  it('refuses two new passwords that differ, a short one, and missing fields, before counting an attempt', async () => {
    const s = await enrolledStaff(t);
    const b = await signedIn(s);
    const mismatch = await change(b, {
      currentPassword: s.password,
      passwordCode: await code(t, s.secret),
      newPassword: 'a-new-long-passphrase',
      confirmPassword: 'another-long-passphrase',
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('The two new passwords do not match');
    expect(mismatch.body).toContain('href="#confirmPassword"');
    const short = await change(b, { currentPassword: s.password, passwordCode: await code(t, s.secret), newPassword: 'short', confirmPassword: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('Choose a new password of 12 to 128 characters');
    const empty = await change(b, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('href="#currentPassword"');
    expect(empty.body).toContain('href="#passwordCode"');
    expect(await actions(s.staffId)).not.toContain('staff.password_change_refused');
  });

  it('changes the password, keeps this session, signs out the others, and audits it', async () => {
    const s = await enrolledStaff(t);
    const other = browser();
    expect((await signIn(t, other, s)).statusCode).toBe(303);
    t.clock.advance(31_000);
    const b = await signedIn(s);
    const res = await change(b, {
      currentPassword: s.password,
      passwordCode: await code(t, s.secret),
      newPassword: 'a-brand-new-passphrase',
      confirmPassword: 'a-brand-new-passphrase',
    });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toBe('/console/account?done=password&ended=1');
    const account = await b.get(res.headers.location as string);
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('Your password was changed. 1 other session was signed out.');
    expect((await other.get('/console/account')).headers.location).toBe('/console/sign-in');
    const row = await t.prisma.auditEvent.findFirst({ where: { subjectId: s.staffId, action: 'staff.password_changed' } });
    expect(row!.detail).toEqual({ otherSessionsEnded: 1 });
    expect(row!.actorId).toBe(s.staffId);
    expect(JSON.stringify(row!.detail)).not.toContain('a-brand-new-passphrase');
    t.clock.advance(31_000);
    expect((await signIn(t, browser(), s)).statusCode).toBe(401);
    t.clock.advance(31_000);
    expect((await signIn(t, browser(), { ...s, password: 'a-brand-new-passphrase' })).statusCode).toBe(303);
  });

  it('is throttled like sign-in: wrong attempts lock further changes', async () => {
    const s = await enrolledStaff(t);
    const b = await signedIn(s);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await change(b, {
        currentPassword: `wrong-password-${i}-xx`,
        passwordCode: await code(t, s.secret),
        newPassword: 'a-new-long-passphrase',
        confirmPassword: 'a-new-long-passphrase',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.every((x) => x === 401)).toBe(true);
    const rows = await t.prisma.auditEvent.findMany({ where: { subjectId: s.staffId, action: 'staff.password_change_refused' }, select: { detail: true } });
    expect(rows.some((r) => (r.detail as { reason?: string }).reason === 'locked')).toBe(true);
    // Locked: even the right details are refused now.
    const right = await change(b, {
      currentPassword: s.password,
      passwordCode: await code(t, s.secret),
      newPassword: 'a-new-long-passphrase',
      confirmPassword: 'a-new-long-passphrase',
    });
    expect(right.statusCode).toBe(401);
  });

  it('warns when recovery codes run low, and strongly when none are left', async () => {
    const s = await enrolledStaff(t);
    const b = await signedIn(s);
    expect((await b.get('/console/account')).body).not.toContain('data-testid="recovery-codes-warning"');
    const codes = await t.prisma.staffRecoveryCode.findMany({ where: { staffId: s.staffId }, select: { id: true } });
    await t.prisma.staffRecoveryCode.updateMany({ where: { id: { in: codes.slice(0, 8).map((c) => c.id) } }, data: { usedAt: new Date() } });
    const low = (await b.get('/console/account')).body;
    expect(low).toMatch(/class="warning-text mild" data-testid="recovery-codes-warning"/);
    expect(low).toContain('Only 2 recovery codes left.');
    expect(low).toContain('href="#new-recovery-codes"');
    await t.prisma.staffRecoveryCode.updateMany({ where: { staffId: s.staffId }, data: { usedAt: new Date() } });
    const none = (await b.get('/console/account')).body;
    expect(none).toMatch(/class="warning-text" data-testid="recovery-codes-warning"/);
    expect(none).toContain('You have no recovery codes left.');
    expect(hiddenCsrf(none)).toBeTruthy();
  });
});
