import type { StaffRole } from '../../src/generated/prisma/enums.js';
import { hmacSha256Hex } from '../../src/common/crypto.js';
import type { TestApp } from './app.js';
import { anyIp, Browser, enrolledStaff, hiddenCsrf, signIn, type EnrolledStaff, type EnrolOptions } from './staff.helpers.js';

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
