import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.databaseUrl) throw new Error('PrismaService needs a database URL (the embedded database starts before the app)');
    super({ adapter: new PrismaPg({ connectionString: config.databaseUrl, max: 20 }) });
  }

  /** Runs `fn` in one READ COMMITTED transaction; the audit row written inside commits or rolls back with it. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    return this.$transaction(fn, { timeout: opts.timeoutMs ?? 10_000, maxWait: 10_000 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
