import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { Clock } from '../common/clock.js';
import { clientIpOf, correlationIdOf } from '../common/http-context.js';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { SECRET_PREFIX } from '../credentials/credential-format.js';
import { Metrics } from '../metrics/metrics.js';
import { OAuthError } from './oauth-error.js';
import { TokenFailureLogRepository, type TokenFailureEntry, type TokenFailureRow } from './token-failure-log.repository.js';

const TOKEN_ROUTE = '/oauth/:env/token';
const MINUTE_MS = 60_000;
/** What is kept of the client_id as sent: enough to recognise it, never a pasted secret or arbitrary text. */
const CLIENT_ID_KEPT = 64;

/**
 * One record per failed token request, so staff can answer "why was my request refused?" from the
 * correlation id the partner quotes (the failure counters only know sums per window). The token path only
 * appends to a buffer; a timer writes it in one statement per flush, like the failure counters. At most
 * `failureRecordsPerMinute` records per instance and minute are kept, so a flood of failures costs a bounded
 * number of rows (the rest are counted in `oauth_token_failure_records_dropped_total`); records older than
 * `failureRetentionDays` are deleted by the failure counters' housekeeping.
 */
@Injectable()
export class TokenFailureLog implements OnModuleInit, OnModuleDestroy {
  private buffer: TokenFailureEntry[] = [];
  private minute = 0;
  private inMinute = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly dropped: Counter;

  constructor(
    private readonly repo: TokenFailureLogRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.dropped = new Counter({
      name: 'oauth_token_failure_records_dropped_total',
      help: 'Failed token requests not recorded one by one because the per-minute cap was reached',
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    // Per instance, not a pg-boss schedule: it writes out this process's buffer (retention is the summary job's).
    this.timer = setInterval(() => void this.flush(), this.config.credentials.failureFlushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Called from the token endpoint's failure path: synchronous, no database work. */
  record(req: FastifyRequest, err: unknown): void {
    if (req.routeOptions?.url !== TOKEN_ROUTE) return;
    const now = this.clock.now();
    const minute = Math.floor(now.getTime() / MINUTE_MS);
    if (minute !== this.minute) {
      this.minute = minute;
      this.inMinute = 0;
    }
    if (this.inMinute >= this.config.tokenExplain.failureRecordsPerMinute) {
      this.dropped.inc();
      return;
    }
    this.inMinute++;
    const env = (req.params as { env?: string } | undefined)?.env;
    const oauth = err instanceof OAuthError ? err : null;
    this.buffer.push({
      id: randomUUID(),
      correlationId: correlationIdOf(req),
      occurredAt: now,
      environment: env === 'acceptance' || env === 'production' ? env : null,
      clientId: clientIdAsSent(req),
      ip: clientIpOf(req),
      status: oauth?.status ?? 500,
      error: oauth?.error ?? 'server_error',
      reason: (oauth?.reason ?? oauth?.error ?? 'server_error').slice(0, 50),
    });
  }

  async flush(): Promise<void> {
    if (!this.buffer.length) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await this.repo.insert(batch);
    } catch (err) {
      // A lost batch of diagnostics must not grow memory while the database is away: dropped, and said so.
      this.dropped.inc(batch.length);
      this.logger.warn({ err, records: batch.length }, 'could not record failed token requests');
    }
  }

  find(correlationId: string): Promise<TokenFailureRow[]> {
    return this.repo.byCorrelationId(correlationId.trim().slice(0, 128));
  }

  recentForClient(clientId: string, limit = 20): Promise<TokenFailureRow[]> {
    return this.repo.recentForClient(clientId.trim().slice(0, CLIENT_ID_KEPT), limit);
  }

  purge(): Promise<number> {
    return this.repo.purge(new Date(this.clock.now().getTime() - this.config.tokenExplain.failureRetentionDays * 86_400_000));
  }
}

/**
 * The client_id the caller sent (Basic header or form body), as far as it can be told without keeping
 * anything secret: the part before the colon of Basic credentials only, never a value that looks like a
 * client secret, printable characters only, truncated.
 */
export function clientIdAsSent(req: FastifyRequest): string | null {
  let raw: string | undefined;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
    if (m) {
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) raw = safeDecode(decoded.slice(0, colon));
    }
  } else {
    const body = req.body as Record<string, unknown> | undefined;
    const v = body && typeof body === 'object' ? body.client_id : undefined;
    if (typeof v === 'string') raw = v;
  }
  if (raw === undefined || raw === '') return null;
  if (raw.includes(SECRET_PREFIX)) return '[a client secret]';
  return raw.replace(/[^A-Za-z0-9_.-]/g, '?').slice(0, CLIENT_ID_KEPT);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
