import { randomUUID } from 'node:crypto';
import type { StaffRole } from '../../src/generated/prisma/enums.js';
import { hmacSha256Hex } from '../../src/common/crypto.js';
import type { TestApp } from './app.js';
import { anyIp, Browser, code, enrolledStaff, hiddenCsrf, secretOf, signIn, type EnrolledStaff, type EnrolOptions } from './staff.helpers.js';

/** A browser from an address of its own. */
export function freshBrowser(t: TestApp): Browser {
  return new Browser(t, anyIp());
}

/** The throttle row that counts one account's failures. */
export function accountThrottleKey(t: TestApp, email: string): string {
  return `account:${hmacSha256Hex(t.config.secretHashKey, `staff-email:${email}`)}`;
}

/** An enrolled member signed in through the pages in a browser of their own. */
export async function signedInStaff(t: TestApp, role: StaffRole = 'viewer', opts: EnrolOptions = {}): Promise<{ s: EnrolledStaff; b: Browser }> {
  const s = await enrolledStaff(t, role, opts);
  const b = freshBrowser(t);
  const res = await signIn(t, b, s);
  if (res.statusCode !== 303) throw new Error(`sign-in of ${s.email} answered ${res.statusCode}`);
  return { s, b };
}

/** `count` wrong passwords for `email`, each from a browser of its own; returns the responses. */
export async function wrongPasswords(t: TestApp, email: string, count: number) {
  const responses = [];
  for (let i = 0; i < count; i++) {
    responses.push(await freshBrowser(t).submit('/console/sign-in', '/console/sign-in', { email, password: `wrong-${i}-password` }));
  }
  return responses;
}

/** The right password, then `count` wrong second-factor codes on that one pending sign-in. */
export async function wrongCodesAfterPassword(t: TestApp, s: EnrolledStaff, count: number) {
  const b = freshBrowser(t);
  await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
  const csrf = hiddenCsrf((await b.get('/console/sign-in/second-factor')).body);
  const responses = [];
  for (let i = 0; i < count; i++) responses.push(await b.post('/console/sign-in/second-factor', { _csrf: csrf, code: 'zzzzz-zzzzz' }));
  return { b, csrf, responses };
}

/** Two browsers past the password step of one member, each holding its second-factor form's token. */
export async function twoPendingSignIns(t: TestApp, s: EnrolledStaff) {
  const browsers = [freshBrowser(t), freshBrowser(t)];
  for (const b of browsers) await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
  const forms = await Promise.all(browsers.map(async (b) => hiddenCsrf((await b.get('/console/sign-in/second-factor')).body)));
  return browsers.map((b, i) => ({ b, csrf: forms[i] }));
}

/** Both steps of the JSON sign-in; returns the headers an API call needs. */
export async function jsonSignIn(t: TestApp, s: EnrolledStaff, totp: string) {
  const remoteAddress = anyIp();
  const step1 = await t.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { email: s.email, password: s.password } });
  const pending = step1.cookies.find((c) => c.name.endsWith('staff_pending'))!;
  const step2 = await t.inject({
    method: 'POST',
    url: '/api/session/second-factor',
    remoteAddress,
    cookies: { [pending.name]: pending.value },
    payload: { code: totp },
  });
  const session = step2.cookies.find((c) => c.name.endsWith('staff_session'))!;
  return { step1, step2, headers: { cookie: `${session.name}=${session.value}`, 'x-csrf-token': step2.json().csrfToken as string } };
}

const oneTimePasswordOf = (html: string) => /data-testid="one-time-password">([^<]+)</.exec(html)![1];
const otpauthUriOf = (html: string) => /data-testid="otpauth-uri">([^<]+)</.exec(html)![1].replace(/&amp;/g, '&');
export const recoveryCodesOf = (html: string) => [...html.matchAll(/<code>([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]);

/** An admin signed in through the pages, one time step ago (so their code is not the current one). */
export async function signedInAdmin(t: TestApp, opts: EnrolOptions = {}) {
  const admin = await signedInStaff(t, 'admin', opts);
  t.clock.advance(30_000);
  return admin;
}

/** A member an admin created in the console: their email and the one-time password the page showed once. */
export async function consoleCreatedMember(t: TestApp, admin: Browser, role: StaffRole = 'reviewer') {
  const email = `new-${randomUUID()}@example.com`;
  const created = await admin.submit('/console/staff/new', '/console/staff', { name: 'Nieuwe Collega', email, role });
  return { email, created, oneTime: created.statusCode === 200 ? oneTimePasswordOf(created.body) : '' };
}

/** The first sign-in with a one-time password, up to the enrolment page: its TOTP seed, from the otpauth URI. */
export async function atEnrolment(t: TestApp, email: string, oneTime: string) {
  const m = freshBrowser(t);
  const pw = await m.submit('/console/sign-in', '/console/sign-in', { email, password: oneTime });
  const enrolPage = await m.get('/console/enrol');
  const uri = enrolPage.statusCode === 200 ? otpauthUriOf(enrolPage.body) : '';
  return { m, pw, enrolPage, uri, secret: uri ? secretOf(uri) : '' };
}

/** Enrolment completed: a TOTP code and the member's own password; returns the recovery codes shown. */
export async function enrol(t: TestApp, at: { m: Browser; enrolPage: { body: string }; secret: string }, newPassword: string, confirmPassword = newPassword) {
  const done = await at.m.post('/console/enrol', { _csrf: hiddenCsrf(at.enrolPage.body), code: await code(t, at.secret), newPassword, confirmPassword });
  return { done, recovery: recoveryCodesOf(done.body) };
}

/** A member created in the console who has enrolled with `newPassword`. */
export async function consoleEnrolledMember(t: TestApp, newPassword = `chosen-${randomUUID()}`) {
  const { b: admin } = await signedInAdmin(t);
  const { email, oneTime } = await consoleCreatedMember(t, admin);
  const at = await atEnrolment(t, email, oneTime);
  const { done, recovery } = await enrol(t, at, newPassword);
  return { email, oneTime, secret: at.secret, newPassword, m: at.m, done, recovery };
}

/** Two browsers: an admin's, and a member's signed in. */
export async function adminAndMember(t: TestApp) {
  const admin = await signedInAdmin(t);
  const { s: member, b: mb } = await signedInStaff(t, 'viewer');
  return { adminS: admin.s, admin: admin.b, member, mb };
}
