import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { chainMac } from './audit-chain.js';
import { AuditRepository } from './audit.repository.js';

const BATCH = 1000;

/**
 * Seals committed rows into the keyed chain: reads the head and the oldest unsealed rows, computes their MACs
 * here (the database never holds the key), and hands them to audit_seal(), which checks that the head has not
 * moved and writes rows and head in one statement. Every transaction that recorded an event asks for a seal
 * after commit; callers that ask while a run is under way share the next run, so concurrent writers are sealed
 * in batches. A timer sweeps up rows whose after-commit seal did not run (a crash between commit and seal).
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnModuleDestroy {
  private next: Promise<void> | null = null;
  private tail: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.seal(), this.config.audit.sealIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.tail;
  }

  /** Resolves once every row committed before the call is sealed (or the attempt failed and was logged). */
  seal(): Promise<void> {
    if (this.next) return this.next;
    const run = this.tail.then(async () => {
      this.next = null;
      try {
        await this.sealAll();
      } catch (err) {
        this.logger.error({ err: { type: (err as Error).name, message: (err as Error).message } }, 'audit sealing failed; the sweep retries');
      }
    });
    this.next = run;
    this.tail = run;
    return run;
  }

  private async sealAll(): Promise<number> {
    let sealed = 0;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const batch = await this.repo.unsealed(BATCH);
      if (batch.rows.length === 0) return sealed;
      let prev = batch.headHash;
      let seq = batch.headSeq;
      const hashes = batch.rows.map((r) => (prev = chainMac(this.config.audit.chainKey, prev, ++seq, r.body)));
      const head = await this.repo.seal(batch.headSeq, batch.headHash, batch.rows.map((r) => r.id), hashes);
      if (head === null) continue; // another instance sealed first: read again
      sealed += batch.rows.length;
      if (batch.rows.length < BATCH) return sealed;
    }
    return sealed;
  }
}
