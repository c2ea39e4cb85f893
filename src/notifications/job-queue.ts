import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PgBoss, type Db as IDatabase, type JobWithMetadata, type Queue } from 'pg-boss';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { LOGGER } from '../common/logger.module.js';
import type { Tx } from '../prisma/prisma.service.js';
import { JOB_QUEUE_SCHEMA } from '../database/job-queue-schema.js';

export type JobHandler = (job: JobWithMetadata<Record<string, unknown>>) => Promise<void>;

interface Registered {
  options: Omit<Queue, 'name'>;
  handler: JobHandler;
  /** A schedule's cron (UTC); null: a schedule switched off by configuration, removed if it was there. */
  cron?: string | null;
}

/** How long a slot lasts in which several instances asking `runScheduled` for one schedule file one job (pg-boss's cron slot). */
const SCHEDULE_SLOT_SECONDS = 60;

/** A queue's policy is fixed when it is made; pg-boss refuses to update it. */
function withoutPolicy(options: Omit<Queue, 'name'>): Omit<Queue, 'name' | 'policy'> {
  const { policy: _policy, ...rest } = options;
  return rest;
}

/** pg-boss statements run on the caller's Prisma transaction, so a job commits or rolls back with the change. */
export function inTransaction(tx: Tx): IDatabase {
  return {
    executeSql: async (text: string, values: unknown[] = []) => {
      const rows = await tx.$queryRawUnsafe<unknown[]>(text, ...values);
      return { rows: Array.isArray(rows) ? rows : [] };
    },
  };
}

/**
 * The PostgreSQL job queue (pg-boss, in its own schema `pgboss`). Outside production `start()` creates and
 * migrates it; in production the `migrate` command does, as the owner role, and this only checks its version.
 * Features register queues with handlers; workers poll only where `notificationWorkers` is on (not in tests,
 * which call `drain()` to run due jobs deterministically). Cron schedules are single-instance by pg-boss's
 * own coordination: one instance's cron pass files each occurrence as one job (a 60-second singleton slot), and
 * one worker fetches it. Work on shared rows that every instance would otherwise repeat runs that way; timers
 * are left for work on one process's own memory.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly boss: PgBoss;
  private readonly queues = new Map<string, Registered>();
  private started = false;
  private working = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!config.databaseUrl) throw new Error('the job queue needs a database URL');
    this.boss = new PgBoss({
      connectionString: config.databaseUrl,
      schema: JOB_QUEUE_SCHEMA,
      migrate: config.nodeEnv !== 'production',
      application_name: 'credential-service-jobs',
      max: 4,
      supervise: config.notificationWorkers,
      schedule: config.notificationWorkers,
      registerInstance: false,
    });
    this.boss.on('error', (err: Error) => this.logger.error({ err: { type: err.name, message: err.message } }, 'job queue error'));
  }

  /**
   * Declares a queue and its handler; call from a provider's onModuleInit. `cron` makes it a schedule (UTC);
   * `null` declares a schedule that configuration switched off (its pg-boss schedule is removed).
   */
  register(name: string, options: Omit<Queue, 'name'>, handler: JobHandler, cron?: string | null): void {
    this.queues.set(name, { options, handler, cron });
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    this.started = true;
  }

  /** Runs once every module has registered its queues (at their onModuleInit). */
  async onApplicationBootstrap(): Promise<void> {
    for (const [name, q] of this.queues) {
      await this.boss.createQueue(name, q.options);
      // createQueue leaves an existing queue as it was; this carries changed retry/expiry options over to it.
      await this.boss
        .updateQueue(name, withoutPolicy(q.options) as never)
        .catch((err: Error) =>
          this.logger.warn({ queue: name, err: { type: err.name, message: err.message } }, 'job queue options not updated; the queue keeps its earlier ones'),
        );
    }
    if (this.config.notificationWorkers) await this.startWorkers();
  }

  async startWorkers(): Promise<void> {
    if (this.working) return;
    this.working = true;
    for (const [name, q] of this.queues) {
      await this.boss.work(name, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 2 }, async (jobs) => {
        const job = jobs[0] as JobWithMetadata<Record<string, unknown>> | undefined;
        if (job) await q.handler(job);
      });
      if (q.cron) await this.boss.schedule(name, q.cron, {}, { tz: 'UTC' });
      else if (q.cron === null) await this.boss.unschedule(name);
    }
  }

  /**
   * Runs a schedule's job now rather than at its next occurrence: for tests and the CLI. Instances that ask
   * within the same minute file one job between them (a singleton slot, as pg-boss's cron pass does), and
   * one of them runs it. Returns whether this process ran it.
   */
  async runScheduled(name: string): Promise<boolean> {
    if (!this.queues.get(name)?.cron) throw new Error(`${name} is not an active schedule`);
    await this.boss.send(name, {}, { singletonKey: name, singletonSeconds: SCHEDULE_SLOT_SECONDS });
    return (await this.runDue(name, false)) > 0;
  }

  send(tx: Tx, name: string, data: Record<string, unknown>, options: { id?: string; startAfter?: Date } = {}): Promise<string | null> {
    return this.boss.send(name, data, { ...options, db: inTransaction(tx) });
  }

  /**
   * Runs the jobs that are due now (and, with `includeDelayed`, once each of those waiting for a retry),
   * in this process, the way a worker would: for tests and the CLI. Returns how many jobs ran.
   */
  async drain(opts: { includeDelayed?: boolean; queues?: string[] } = {}): Promise<number> {
    let ran = 0;
    const names = opts.queues ?? [...this.queues.keys()];
    for (let round = 0; round < 50; round++) {
      let any = false;
      for (const name of names) {
        const q = this.queues.get(name);
        if (!q || q.cron !== undefined) continue;
        const n = await this.runDue(name, round === 0 && !!opts.includeDelayed);
        any ||= n > 0;
        ran += n;
      }
      if (!any) break;
    }
    return ran;
  }

  private async runDue(name: string, ignoreStartAfter: boolean): Promise<number> {
    const q = this.queues.get(name)!;
    const jobs = await this.boss.fetch<Record<string, unknown>>(name, { batchSize: 20, includeMetadata: true, ignoreStartAfter });
    for (const job of jobs) {
      try {
        await q.handler(job);
        await this.boss.complete(name, job.id);
      } catch (err) {
        await this.boss.fail(name, job.id, { message: err instanceof Error ? err.message : String(err) });
      }
    }
    return jobs.length;
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: 10_000, close: true });
  }
}
