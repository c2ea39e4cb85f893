import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service.js';

export interface FailureWindow {
  bucket: string;
  windowStart: Date;
  count: number;
  reasons: Record<string, number>;
}

@Injectable()
export class FailureLimiterRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One statement per bucket: the counter is never read-modify-written in the application. */
  async increment(buckets: string[], windowStart: Date, reason: string, by = 1): Promise<Array<{ bucket: string; count: number; guesses: number }>> {
    if (!buckets.length) return [];
    return this.prisma.$queryRaw<Array<{ bucket: string; count: number; guesses: number }>>`
      INSERT INTO oauth_failure_counter (bucket, window_start, count, reasons)
      SELECT b, ${windowStart}, ${by}::int, jsonb_build_object(${reason}::text, ${by}::int) FROM unnest(${buckets}::text[]) AS b
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = oauth_failure_counter.count + ${by}::int,
        reasons = oauth_failure_counter.reasons || jsonb_build_object(${reason}::text, COALESCE((oauth_failure_counter.reasons ->> ${reason}::text)::int, 0) + ${by}::int)
      RETURNING bucket, count, COALESCE((reasons ->> 'wrong_secret')::int, 0) AS guesses`;
  }

  async countsFor(buckets: string[], windowStart: Date): Promise<Array<{ bucket: string; count: number }>> {
    if (!buckets.length) return [];
    return this.prisma.$queryRaw<Array<{ bucket: string; count: number }>>`
      SELECT bucket, count FROM oauth_failure_counter WHERE bucket = ANY(${buckets}::text[]) AND window_start = ${windowStart}`;
  }

  /** Claims closed windows for the audit summary: each window is summarised once across instances. */
  async claimClosedWindows(before: Date): Promise<FailureWindow[]> {
    const rows = await this.prisma.$queryRaw<Array<{ bucket: string; window_start: Date; count: number; reasons: Record<string, number> }>>`
      UPDATE oauth_failure_counter SET summarised_at = now()
      WHERE summarised_at IS NULL AND window_start < ${before}
      RETURNING bucket, window_start, count, reasons`;
    return rows.map((r) => ({ bucket: r.bucket, windowStart: r.window_start, count: r.count, reasons: r.reasons }));
  }

  async purge(before: Date): Promise<void> {
    await this.prisma.$executeRaw`DELETE FROM oauth_failure_counter WHERE summarised_at IS NOT NULL AND window_start < ${before}`;
  }
}
