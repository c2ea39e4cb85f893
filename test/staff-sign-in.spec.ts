import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { Browser, code, enrolledStaff, hiddenCsrf, signIn } from './staff.helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('staff sign-in through the pages', () => {
  it('signs in with password and TOTP, lands on /console and reaches a console page', async () => {
    const s = await enrolledStaff(t, 'viewer');
    const b = new Browser(t);
    const page = await b.get('/console/sign-in');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="password"');
    const pw = await b.post('/console/sign-in', { _csrf: hiddenCsrf(page.body), email: s.email.toUpperCase(), password: s.password });
    expect(pw.statusCode).toBe(303);
    expect(pw.headers.location).toBe('/console/sign-in/second-factor');
    expect(Object.keys(b.jar).some((k) => k.includes('staff_session'))).toBe(false);
    const done = await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: await code(t, s.secret) });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe('/console');
    const setCookie = String(done.headers['set-cookie']);
    expect(setCookie).toMatch(/staff_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const home = await b.get('/console');
    expect(home.headers.location).toBe('/console/requests');
    const account = await b.get('/console/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(s.email);
  });
});
afterAll(() => {
  if (process.env.DUMP_LOGS) for (const l of t.logs) if (/error/i.test(l)) console.log(l.slice(0, 3000));
});
