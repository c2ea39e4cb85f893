import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Clock } from '../common/clock.js';
import { HomeSources } from '../common/home-sources.js';
import { LOGGER } from '../common/logger.module.js';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService } from '../prisma/prisma.service.js';

const DAY_S = 86_400;
const FLUSH_MS = 5_000;
const CHART_DAYS = 14;

/**
 * Tokens issued per API x environment x UTC day, counted in memory on the token path (one Map update,
 * no I/O) and added to the database every few seconds by one upsert.
 */
export class TokenCounts {
  private counts = new Map<string, number>();

  add(apiKey: string, environment: Environment, nowS: number): void {
    const key = `${apiKey}|${environment}|${Math.floor(nowS / DAY_S)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Takes what was counted so far; what a failed flush took goes back with `restore`. */
  take(): Map<string, number> {
    const taken = this.counts;
    this.counts = new Map();
    return taken;
  }

  restore(taken: Map<string, number>): void {
    for (const [k, n] of taken) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }
}

/** The process's counter: the token service counts into it without an injected dependency. */
export const tokenCounts = new TokenCounts();

@Injectable()
export class TokenCountsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * One statement for all keys. Keys go in sorted order, so two instances flushing the same keys at once
   * take the row locks in the same order and never deadlock; the sum lands in the row either way.
   */
  async add(taken: Map<string, number>): Promise<void> {
    if (!taken.size) return;
    const rows = [...taken.entries()]
      .map(([k, n]) => [...k.split('|'), n] as [string, string, string, number])
      .sort((a, b) => (a[0] + a[1] + a[2] < b[0] + b[1] + b[2] ? -1 : 1));
    const apis = rows.map((r) => r[0]);
    const envs = rows.map((r) => r[1]);
    const days = rows.map((r) => new Date(Number(r[2]) * DAY_S * 1000).toISOString());
    const counts = rows.map((r) => r[3]);
    await this.prisma.$executeRaw`
      INSERT INTO token_request_daily (api_key, environment, day, count)
      SELECT * FROM unnest(${apis}::text[], ${envs}::"Environment"[], ${days}::timestamptz[], ${counts}::bigint[])
      ON CONFLICT (api_key, environment, day) DO UPDATE SET count = token_request_daily.count + EXCLUDED.count`;
  }

  async since(day: Date): Promise<Array<{ apiKey: string; environment: Environment; day: Date; count: number }>> {
    const rows = await this.prisma.tokenRequestDaily.findMany({
      where: { day: { gte: day } },
      orderBy: [{ apiKey: 'asc' }, { environment: 'asc' }, { day: 'asc' }],
    });
    return rows.map((r) => ({ apiKey: r.apiKey, environment: r.environment, day: r.day, count: Number(r.count) }));
  }
}

/** Flushes the process's counts every few seconds and once more at shutdown; draws the tokens-per-day chart. */
@Injectable()
export class TokenCountsFlusher implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: TokenCountsRepository,
    private readonly sources: HomeSources,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // Per instance, not a pg-boss schedule: it writes out counts only this process holds in memory.
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
    this.sources.addChart({
      key: 'tokens-per-day',
      title: 'Tokens issued per day',
      description: `Access tokens issued per day by API and environment (last ${CHART_DAYS} days, UTC).`,
      order: 30,
      data: (now) => this.chart(now),
    });
  }

  /** Serialised within the process, so a timer tick and a shutdown never flush the same counts twice. */
  flush(counts: TokenCounts = tokenCounts): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const taken = counts.take();
      try {
        await this.repo.add(taken);
      } catch (err) {
        counts.restore(taken);
        this.logger.warn({ err: { type: (err as Error).name, message: (err as Error).message } }, 'token counts not saved; kept for the next flush');
      }
    });
    return this.flushing;
  }

  /** Runs before the database module closes its pool (it is a dependency of this module). */
  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private async chart(now: Date) {
    const today = Math.floor(now.getTime() / 1000 / DAY_S);
    const days = Array.from({ length: CHART_DAYS }, (_, i) => new Date((today - CHART_DAYS + 1 + i) * DAY_S * 1000));
    const rows = await this.repo.since(days[0]);
    const series = new Map<string, number[]>();
    for (const r of rows) {
      const name = `${r.apiKey} ${r.environment}`;
      if (!series.has(name))
        series.set(
          name,
          days.map(() => 0),
        );
      const i = Math.round((r.day.getTime() - days[0].getTime()) / (DAY_S * 1000));
      if (i >= 0 && i < CHART_DAYS) series.get(name)![i] += r.count;
    }
    return {
      kind: 'stacked-bars' as const,
      categories: days.map((d) => d.toISOString().slice(5, 10)),
      series: [...series.entries()].map(([name, values], i) => ({ name, cssClass: `chart-s${(i % 6) + 1}`, values })),
      unit: 'tokens',
    };
  }
}
