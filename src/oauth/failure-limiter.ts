import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from '../notifications/job-queue.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { FailureLimiterRepository, type FailureWindow } from './failure-limiter.repository.js';
import { TokenFailureLog } from './token-failure-log.js';

/**
 * Failures that look like guessing a secret; the others (revoked, expired, ...) come from a caller who proved
 * it. Requests whose credentials cannot even be read (no or malformed client authentication, control
 * characters) are refused before any lookup and never reach the limiter: they test no secret.
 */
const GUESSING = new Set(['wrong_secret', 'unknown_client']);
/** Reasons whose client_id names none of ours: counted against the IP only. */
const NO_KNOWN_CLIENT = new Set(['unknown_client']);
export const FAILURE_SUMMARY_QUEUE = 'oauth-token-failure-summary';

/**
 * Counts failed client authentications in PostgreSQL (fixed windows, shared by every instance) per
 * (client_id, IP), per IP and per client_id. Throttling only ever changes how a *failure* is answered (429
 * with Retry-After instead of 401): a correct secret is checked first and always works, so nobody who knows
 * a client_id can lock its owner out. Wrong-issuer attempts are not counted at all. Sustained guessing at one
 * client (from any number of IPs) alerts staff once per window, through the audit trail and email.
 */
@Injectable()
export class FailureLimiter implements OnModuleInit, OnModuleDestroy {
  private readonly blocked = new Map<string, number>();
  /** Failures refused while already blocked, counted here and written in one statement per second. */
  private pending = new Map<string, { buckets: string[]; windowStart: Date; reason: string; count: number }>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: FailureLimiterRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly clock: Clock,
    private readonly failureLog: TokenFailureLog,
    private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // The summary works on the shared counters: once a minute on one instance, not on each.
    this.queue.register(
      FAILURE_SUMMARY_QUEUE,
      { policy: 'stately', retryLimit: 2, retryDelay: 30, expireInSeconds: 120 },
      async () => void (await this.summarise()),
      '* * * * *',
    );
    // Per instance: this process's batched failures and its own memory of blocks.
    this.flushTimer = setInterval(() => void this.flush().then(() => this.dropExpiredBlocks()), this.config.credentials.failureFlushMs);
    this.flushTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flush();
  }

  private get windowMs(): number {
    return this.config.credentials.failureWindowSeconds * 1000;
  }

  private windowStart(now = this.clock.now()): Date {
    return new Date(Math.floor(now.getTime() / this.windowMs) * this.windowMs);
  }

  buckets(clientId: string | null, ip: string | null, reason: string): string[] {
    if (reason === 'other_environment') return [];
    const out: string[] = [];
    const id = clientId && !NO_KNOWN_CLIENT.has(reason) ? clientId.slice(0, 100) : null;
    if (id) out.push(`client:${id}`);
    if (id && ip) out.push(`pair:${id} ${ip}`);
    if (ip) out.push(`ip:${ip}`);
    return out;
  }

  private limitOf(bucket: string): number | null {
    if (bucket.startsWith('pair:')) return this.config.credentials.failuresPerClient;
    if (bucket.startsWith('ip:')) return this.config.credentials.failuresPerIp;
    return null;
  }

  /** Seconds until failures of these buckets are answered with 401 again, or 0. */
  private blockedFor(buckets: string[]): number {
    const now = this.clock.now().getTime();
    let until = 0;
    for (const b of buckets) {
      const u = this.blocked.get(b);
      if (u === undefined) continue;
      if (u <= now) this.blocked.delete(b);
      else until = Math.max(until, u);
    }
    return until ? Math.ceil((until - now) / 1000) : 0;
  }

  /**
   * Records one failed authentication; returns the seconds a guesser should wait (the failure is then
   * answered 429 with Retry-After), or 0 to answer it 401 as usual.
   */
  async recordFailure(clientId: string | null, ip: string | null, reason: string): Promise<number> {
    const buckets = this.buckets(clientId, ip, reason);
    if (!buckets.length) return 0;
    const start = this.windowStart();
    const limited = buckets.filter((b) => !b.startsWith('client:'));
    if (GUESSING.has(reason)) {
      const wait = this.blockedFor(limited);
      // A guesser already refused costs no database write per attempt: its failures are counted in batches.
      if (wait > 0) {
        const key = `${start.getTime()} ${reason} ${buckets.join(' ')}`;
        const p = this.pending.get(key);
        if (p) p.count++;
        else this.pending.set(key, { buckets, windowStart: start, reason, count: 1 });
        return wait;
      }
    }
    await this.count(buckets, start, reason, 1);
    return GUESSING.has(reason) ? this.blockedFor(limited) : 0;
  }

  /** Writes the failures counted while blocked. */
  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    for (const p of batch) {
      try {
        await this.count(p.buckets, p.windowStart, p.reason, p.count);
      } catch (err) {
        this.logger.warn({ err, failures: p.count }, 'could not record refused token failures');
      }
    }
  }

  private async count(buckets: string[], start: Date, reason: string, by: number): Promise<void> {
    const counts = await this.repo.increment(buckets, start, reason, by);
    const end = start.getTime() + this.windowMs;
    const threshold = this.config.credentials.failuresPerClient;
    for (const c of counts) {
      const limit = this.limitOf(c.bucket);
      if (limit !== null && c.count >= limit) this.blocked.set(c.bucket, end);
      // Exactly one increment across all instances crosses the threshold: one alert per client and window.
      if (c.bucket.startsWith('client:') && reason === 'wrong_secret' && c.guesses >= threshold && c.guesses - by < threshold) {
        await this.alert(c.bucket.slice('client:'.length), start);
      }
    }
  }

  private async alert(clientId: string, windowStart: Date): Promise<void> {
    const detail = {
      windowStart: windowStart.toISOString(),
      windowSeconds: this.config.credentials.failureWindowSeconds,
      wrongSecrets: this.config.credentials.failuresPerClient,
    };
    this.logger.warn({ clientId, ...detail }, 'sustained secret guessing at a client');
    try {
      await this.prisma.transaction(async (tx) => {
        await this.audit.record(tx, systemContext(), { action: 'oauth.client_guessing_suspected', subjectType: 'oauth_client', subjectId: clientId, detail });
        if (this.config.staffAlertEmail) {
          await this.notifications.enqueueEmail(tx, {
            to: this.config.staffAlertEmail,
            template: 'staff-oauth-guessing-alert',
            language: 'en',
            idempotencyKey: `oauth-guessing:${clientId}:${windowStart.toISOString()}`,
            subject: { type: 'oauth_client', id: clientId },
            data: {
              clientId,
              failures: detail.wrongSecrets,
              minutes: Math.round(detail.windowSeconds / 60),
              consoleUrl: `${this.config.publicBaseUrl}/console/credentials`,
            },
          });
        }
      });
    } catch (err) {
      // The caller is a guesser being answered; the window summary still records the failures.
      this.logger.error({ err, clientId }, 'could not raise the guessing alert');
    }
  }

  /** Blocks are otherwise dropped only when the same bucket fails again: a guesser that moved on would stay. */
  private dropExpiredBlocks(): void {
    const nowMs = this.clock.now().getTime();
    for (const [bucket, until] of this.blocked) if (until <= nowMs) this.blocked.delete(bucket);
  }

  /**
   * One audit row per client or IP and window, with the counts by reason (and, for a client, by IP). The
   * closed windows are claimed by one conditional UPDATE, so a second run (or instance) finds them taken.
   */
  async summarise(): Promise<number> {
    await this.flush();
    // Per-request failure records age out with the same housekeeping; their loss must not stop the summary.
    await this.failureLog.purge().catch((err) => this.logger.warn({ err }, 'could not purge old token failure records'));
    this.dropExpiredBlocks();
    const windows = await this.repo.claimClosedWindows(this.windowStart());
    if (!windows.length) return 0;
    const byIp = new Map<string, Record<string, number>>();
    for (const w of windows) {
      if (!w.bucket.startsWith('pair:')) continue;
      const rest = w.bucket.slice('pair:'.length);
      const space = rest.indexOf(' ');
      const key = `${rest.slice(0, space)}@${w.windowStart.toISOString()}`;
      byIp.set(key, { ...byIp.get(key), [rest.slice(space + 1)]: w.count });
    }
    const rows = windows.filter((w: FailureWindow) => !w.bucket.startsWith('pair:'));
    await this.prisma.transaction(async (tx) => {
      for (const w of rows) {
        const client = w.bucket.startsWith('client:');
        const subjectId = w.bucket.slice(w.bucket.indexOf(':') + 1);
        const ips = client ? byIp.get(`${subjectId}@${w.windowStart.toISOString()}`) : undefined;
        await this.audit.record(tx, systemContext(), {
          action: 'oauth.token_failures_summarised',
          subjectType: client ? 'oauth_client' : 'client_ip',
          subjectId,
          detail: {
            windowStart: w.windowStart.toISOString(),
            windowSeconds: this.config.credentials.failureWindowSeconds,
            failures: w.count,
            reasons: w.reasons,
            ...(ips ? { byIp: ips } : {}),
          },
        });
      }
    });
    await this.repo.purge(new Date(this.clock.now().getTime() - 7 * 86_400_000));
    return rows.length;
  }
}
