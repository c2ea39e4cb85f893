import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { constantTimeEqual, hmacSha256Hex, randomToken, sha256Hex } from '../common/crypto.js';
import type { RequestContext } from '../common/request-context.js';
import type { Tx } from '../prisma/prisma.service.js';
import { SessionRepository, type ActiveSession } from './session.repository.js';

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;
/** lastSeenAt is written at most once a minute per session, not on every request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Server-side staff sessions. The cookie holds a 256-bit random token; the database holds only its
 * SHA-256, so a copy of the table cannot be replayed as cookies.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly repo: SessionRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get cookieName(): string {
    return this.config.secureCookies ? '__Host-staff_session' : 'staff_session';
  }

  async start(tx: Tx, staffId: string, ctx: RequestContext): Promise<{ token: string; sessionId: string; expiresAt: Date }> {
    const token = randomToken(32);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + SESSION_ABSOLUTE_MS);
    const sessionId = await this.repo.create(tx, { tokenHash: sha256Hex(token), staffId, expiresAt, ip: ctx.clientIp, userAgent: ctx.userAgent, now });
    return { token, sessionId, expiresAt };
  }

  async resolve(token: string): Promise<ActiveSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const now = this.clock.now();
    const session = await this.repo.findActive(sha256Hex(token), now, new Date(now.getTime() - SESSION_IDLE_MS));
    if (session && now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) await this.repo.touch(session.id, now);
    return session;
  }

  /** The CSRF token is derived from the session id: nothing extra to store, useless without the session. */
  csrfTokenFor(sessionId: string): string {
    return hmacSha256Hex(this.config.secretHashKey, `csrf:${sessionId}`);
  }

  checkCsrf(sessionId: string, presented: unknown): boolean {
    return typeof presented === 'string' && constantTimeEqual(presented, this.csrfTokenFor(sessionId));
  }

  end(tx: Tx, sessionId: string): Promise<number> {
    return this.repo.revoke(tx, sessionId, this.clock.now());
  }

  endAllExcept(tx: Tx, staffId: string, keepSessionId: string): Promise<number> {
    return this.repo.revokeAllOfExcept(tx, staffId, keepSessionId, this.clock.now());
  }

  endAll(tx: Tx, staffId: string): Promise<number> {
    return this.repo.revokeAllOf(tx, staffId, this.clock.now());
  }
}
