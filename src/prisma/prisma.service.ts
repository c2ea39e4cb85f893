import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { isWriteConflict } from '../common/database-unavailable.js';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;

const afterCommitHooks = new WeakMap<object, Map<unknown, () => Promise<void>>>();

/**
 * Runs `hook` once `tx` has committed (once per key and transaction), before `PrismaService.transaction` returns.
 * A hook must not throw: the transaction has committed and its caller's change stands. Transactions opened
 * with `$transaction` directly skip hooks.
 */
export function afterCommit(tx: Tx, key: unknown, hook: () => Promise<void>): void {
  let hooks = afterCommitHooks.get(tx);
  if (!hooks) afterCommitHooks.set(tx, (hooks = new Map<unknown, () => Promise<void>>()));
  if (!hooks.has(key)) hooks.set(key, hook);
}

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.databaseUrl) throw new Error('PrismaService needs a database URL (the embedded database starts before the app)');
    super({ adapter: new PrismaPg({ connectionString: config.databaseUrl, max: 20 }) });
  }

  /**
   * Runs `fn` in one READ COMMITTED transaction; the audit row written inside commits or rolls back with it.
   * A transaction PostgreSQL aborted as a deadlock victim or for a serialization failure (nothing of it stands)
   * runs once more; `fn` must therefore do nothing outside the database that a second run would repeat. A second
   * such abort reaches the caller, and the error filter answers 409 request/conflict, never 500.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    try {
      return await this.transactionOnce(fn, opts);
    } catch (err) {
      if (!isWriteConflict(err)) throw err;
      return this.transactionOnce(fn, opts);
    }
  }

  private async transactionOnce<T>(fn: (tx: Tx) => Promise<T>, opts: { timeoutMs?: number }): Promise<T> {
    let hooks: Map<unknown, () => Promise<void>> | undefined;
    const result = await this.$transaction(
      async (tx) => {
        const value = await fn(tx);
        hooks = afterCommitHooks.get(tx);
        return value;
      },
      { timeout: opts.timeoutMs ?? 10_000, maxWait: 10_000 },
    );
    if (hooks) for (const hook of hooks.values()) await hook();
    return result;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
