import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { FailureLimiterRepository } from './failure-limiter.repository.js';

/**
 * Rate limit on failed token-endpoint authentications, per client_id and per IP, counted in PostgreSQL
 * (fixed windows, shared by every instance). Successful requests only consult an in-memory map of blocked
 * buckets, which each instance fills from the counts its own failures return, so the hot path stays free
 * of database writes. A bucket over its limit refuses every request, right or wrong, until the window ends.
 */
@Injectable()
export class FailureLimiter implements OnModuleInit, OnModuleDestroy {
  private readonly blocked = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: FailureLimiterRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.summarise().catch((err) => this.logger.error({ err }, 'token failure summary failed')), 60_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private get windowMs(): number {
    return this.config.credentials.failureWindowSeconds * 1000;
  }

  private windowStart(now = this.clock.now()): Date {
    return new Date(Math.floor(now.getTime() / this.windowMs) * this.windowMs);
  }

  buckets(clientId: string | null, ip: string | null): string[] {
    const out: string[] = [];
    if (clientId) out.push(`client:${clientId.slice(0, 100)}`);
    if (ip) out.push(`ip:${ip}`);
    return out;
  }

  /** Seconds until the block lifts, or 0 when not blocked. */
  blockedFor(clientId: string | null, ip: string | null): number {
    const now = this.clock.now().getTime();
    let until = 0;
    for (const b of this.buckets(clientId, ip)) {
      const u = this.blocked.get(b);
      if (u === undefined) continue;
      if (u <= now) this.blocked.delete(b);
      else until = Math.max(until, u);
    }
    return until ? Math.ceil((until - now) / 1000) : 0;
  }

  async recordFailure(clientId: string | null, ip: string | null, reason: string): Promise<number> {
    const start = this.windowStart();
    const counts = await this.repo.increment(this.buckets(clientId, ip), start, reason);
    const end = start.getTime() + this.windowMs;
    for (const c of counts) {
      const limit = c.bucket.startsWith('client:') ? this.config.credentials.failuresPerClient : this.config.credentials.failuresPerIp;
      if (c.count >= limit) this.blocked.set(c.bucket, end);
    }
    return this.blockedFor(clientId, ip);
  }

  /** One audit row per (bucket, window) with the counts by reason, written once across instances. */
  async summarise(): Promise<number> {
    const windows = await this.repo.claimClosedWindows(this.windowStart());
    if (!windows.length) return 0;
    await this.prisma.transaction(async (tx) => {
      for (const w of windows) {
        const [kind, ...rest] = w.bucket.split(':');
        await this.audit.record(tx, systemContext(), {
          action: 'oauth.token_failures_summarised',
          subjectType: kind === 'client' ? 'oauth_client' : 'client_ip',
          subjectId: rest.join(':'),
          detail: { windowStart: w.windowStart.toISOString(), windowSeconds: this.config.credentials.failureWindowSeconds, failures: w.count, reasons: w.reasons },
        });
      }
    });
    await this.repo.purge(new Date(this.clock.now().getTime() - 7 * 86_400_000));
    return windows.length;
  }
}
