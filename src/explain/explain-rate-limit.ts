import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { hmacSha256Hex } from '../common/crypto.js';
import { RateLimitedError } from '../common/domain-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService } from '../prisma/prisma.service.js';

const HOUR_MS = 3600_000;

@Injectable()
export class ExplainRateLimitRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Fixed-window counter in one statement; windows older than a day are swept when a new one opens. */
  async hit(bucket: string, windowStart: Date): Promise<number> {
    const rows = await this.prisma.$queryRaw<Array<{ count: number }>>`
      INSERT INTO token_explain_rate_limit (bucket, window_start, count) VALUES (${bucket}, ${windowStart}, 1)
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = token_explain_rate_limit.count + 1
      RETURNING count`;
    const count = rows[0].count;
    if (count === 1) await this.prisma.$executeRaw`DELETE FROM token_explain_rate_limit WHERE window_start < ${new Date(windowStart.getTime() - 24 * HOUR_MS)}`;
    return count;
  }
}

/**
 * Explanations per client IP and hour, counted in PostgreSQL (every instance shares the count; the IP is
 * kept only as an HMAC). Pages and the JSON API draw on the same allowance.
 */
@Injectable()
export class ExplainRateLimit {
  constructor(
    private readonly repo: ExplainRateLimitRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async hit(clientIp: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
    const count = await this.repo.hit(hmacSha256Hex(this.config.secretHashKey, `token-explain-ip:${clientIp ?? 'unknown'}`), windowStart);
    if (count > this.config.tokenExplain.perIpPerHour) {
      throw new RateLimitedError(
        'token_explain/rate_limited',
        'Too many token explanations from your network in this hour. Please try again later.',
        (windowStart.getTime() + HOUR_MS - now) / 1000,
      );
    }
  }
}
