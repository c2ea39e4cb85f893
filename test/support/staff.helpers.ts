import { randomInt, randomUUID } from 'node:crypto';
import type { StaffRole } from '../../src/generated/prisma/enums.js';
import { systemContext } from '../../src/common/request-context.js';
import { StaffService } from '../../src/staff/staff.service.js';
import { currentTotp } from '../../src/staff/totp.js';
import type { TestApp } from './app.js';

/** A tiny browser over `inject`: keeps cookies, sends forms, speaks HTML, comes from one IP. */
export class Browser {
  readonly jar: Record<string, string> = {};
  constructor(
    private readonly t: TestApp,
    readonly ip = '198.51.100.10',
  ) {}

  private cookieHeader(): string {
    return Object.entries(this.jar)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  private keep(res: { cookies: Array<{ name: string; value: string; maxAge?: number; expires?: Date }> }) {
    for (const c of res.cookies) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() <= Date.now())) delete this.jar[c.name];
      else this.jar[c.name] = c.value;
    }
  }

  async get(url: string) {
    const res = await this.t.inject({ method: 'GET', url, remoteAddress: this.ip, headers: { accept: 'text/html', cookie: this.cookieHeader() } });
    this.keep(res);
    return res;
  }

  async post(url: string, form: Record<string, string>) {
    const res = await this.t.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: { accept: 'text/html', cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    this.keep(res);
    return res;
  }

  /** GET a page with a form, then post it with the page's hidden `_csrf`. */
  async submit(pageUrl: string, postUrl: string, form: Record<string, string>) {
    const page = await this.get(pageUrl);
    return this.post(postUrl, { _csrf: hiddenCsrf(page.body), ...form });
  }
}

export function hiddenCsrf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field on the page:\n' + html.slice(0, 2000));
  return m[1];
}

export function secretOf(otpauthUri: string): string {
  return new URL(otpauthUri).searchParams.get('secret')!;
}

export interface EnrolledStaff {
  staffId: string;
  email: string;
  password: string;
  secret: string;
  recoveryCodes: string[];
}

/** A client address of its own (10.0.0.0/8), so one test's per-address limit never reaches another test. */
export function anyIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export interface EnrolOptions {
  email?: string;
  /** A test's own list that receives the password, TOTP seed and recovery codes handed out, for its leak check. */
  handedOut?: string[];
}

/** An enrolled account, made the way the CLI makes one. */
export async function enrolledStaff(t: TestApp, role: StaffRole = 'reviewer', opts: EnrolOptions = {}): Promise<EnrolledStaff> {
  const password = `pw-${Math.random().toString(36).slice(2)}-long-enough`;
  const e = opts.email ?? `staff-${randomUUID()}@example.com`;
  const created = await t.app.get(StaffService).create(systemContext(), { email: e, name: `Test ${role}`, role }, { password, enrolNow: true });
  const secret = secretOf(created.otpauthUri!);
  opts.handedOut?.push(password, secret, ...created.recoveryCodes!);
  return { staffId: created.member.id, email: e, password, secret, recoveryCodes: created.recoveryCodes! };
}

export function code(t: TestApp, secret: string): Promise<string> {
  return currentTotp(secret, t.clock.now());
}

/** Password then TOTP through the pages; returns the final response (a redirect to /console on success). */
export async function signIn(t: TestApp, b: Browser, s: { email: string; password: string; secret: string }, totp?: string) {
  const first = await b.submit('/console/sign-in', '/console/sign-in', { email: s.email, password: s.password });
  if (first.statusCode !== 303) return first;
  return b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code: totp ?? (await code(t, s.secret)) });
}
