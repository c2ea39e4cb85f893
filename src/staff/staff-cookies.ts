import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { constantTimeEqual, hmacSha256Hex, randomToken } from '../common/crypto.js';
import { SESSION_ABSOLUTE_MS, SessionService } from './session.service.js';
import { PENDING_LOGIN_MS } from './sign-in.service.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The staff cookies: all HttpOnly, SameSite=Strict, Path=/ (and `__Host-` + Secure over https).
 *
 * Login CSRF: the sign-in, second-factor and enrolment forms are posted before any session exists,
 * so the guard's session-bound token cannot protect them. Instead the GET of each form sets a random
 * pre-session cookie and embeds HMAC(key, cookie) as a hidden field (a signed double-submit). A forged
 * cross-site post carries neither: SameSite=Strict keeps the cookie off it and the attacker cannot
 * compute the HMAC. This stops an attacker from signing a victim into the attacker's account.
 */
@Injectable()
export class StaffCookies {
  constructor(
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private name(base: string): string {
    return this.config.secureCookies ? `__Host-${base}` : base;
  }

  private set(reply: FastifyReply, name: string, value: string, maxAgeMs: number): void {
    reply.setCookie(name, value, { httpOnly: true, sameSite: 'strict', path: '/', secure: this.config.secureCookies, maxAge: Math.floor(maxAgeMs / 1000) });
  }

  private clear(reply: FastifyReply, name: string): void {
    reply.clearCookie(name, { httpOnly: true, sameSite: 'strict', path: '/', secure: this.config.secureCookies });
  }

  setSession(reply: FastifyReply, token: string): void {
    this.set(reply, this.sessions.cookieName, token, SESSION_ABSOLUTE_MS);
  }

  clearSession(reply: FastifyReply): void {
    this.clear(reply, this.sessions.cookieName);
  }

  /** Remembers for 180 days that this browser signed in to an account (a separate throttle counter). */
  deviceCookie(req: FastifyRequest): string | undefined {
    return req.cookies?.[this.name('staff_device')];
  }

  setDevice(reply: FastifyReply, value: string): void {
    this.set(reply, this.name('staff_device'), value, 180 * 24 * 3600_000);
  }

  pendingToken(req: FastifyRequest): string | undefined {
    const v = req.cookies?.[this.name('staff_pending')];
    return v && TOKEN.test(v) ? v : undefined;
  }

  setPending(reply: FastifyReply, token: string): void {
    this.set(reply, this.name('staff_pending'), token, PENDING_LOGIN_MS);
  }

  clearPending(reply: FastifyReply): void {
    this.clear(reply, this.name('staff_pending'));
  }

  /** Reuses the browser's pre-session cookie when it has one (several tabs keep working); returns the form token. */
  loginCsrfToken(req: FastifyRequest, reply: FastifyReply): string {
    let raw = req.cookies?.[this.name('staff_signin')];
    if (!raw || !TOKEN.test(raw)) {
      raw = randomToken(32);
      this.set(reply, this.name('staff_signin'), raw, 3600_000);
    }
    return this.formTokenFor(raw);
  }

  checkLoginCsrf(req: FastifyRequest, presented: unknown): boolean {
    const raw = req.cookies?.[this.name('staff_signin')];
    if (!raw || !TOKEN.test(raw) || typeof presented !== 'string') return false;
    return constantTimeEqual(presented, this.formTokenFor(raw));
  }

  private formTokenFor(raw: string): string {
    return hmacSha256Hex(this.config.secretHashKey, `login-csrf:${raw}`);
  }
}
