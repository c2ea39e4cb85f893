import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { chainMac } from './audit-chain.js';
import { AuditRepository, type UnsealedRow } from './audit.repository.js';

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
  /** Rows this process committed, with their bodies: sealing them needs one statement, no read. */
  private committed: UnsealedRow[] = [];
  /** The head as this process last sealed it; another instance may have moved it since. */
  private head?: { seq: bigint; hash: string };
  private sweepRequested = false;

  constructor(
    private readonly repo: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Rows committed before a crash, or by an instance of the previous version, are sealed at start.
    void this.seal(true);
    // Per instance, not a pg-boss schedule (whose finest period is a minute): it bounds how long this process's
    // unsealed rows wait; concurrent sweeps are safe (audit_seal checks the head) and an idle one is one read.
    this.timer = setInterval(() => void this.seal(true), this.config.audit.sealIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.tail;
  }

  /** Rows whose transaction has committed; call `seal()` next. */
  committedRows(rows: UnsealedRow[]): void {
    this.committed.push(...rows);
  }

  /**
   * Resolves once the rows handed over before the call are sealed (or the attempt failed and was logged);
   * with `sweep`, once every row committed before the call is sealed, whoever wrote it.
   */
  seal(sweep = false): Promise<void> {
    if (sweep) this.sweepRequested = true;
    if (this.next) return this.next;
    const run = this.tail.then(async () => {
      this.next = null;
      const sweepNow = this.sweepRequested;
      this.sweepRequested = false;
      try {
        await this.sealAll(sweepNow);
      } catch (err) {
        this.logger.error({ err: { type: (err as Error).name, message: (err as Error).message } }, 'audit sealing failed; the sweep retries');
      }
    });
    this.next = run;
    this.tail = run;
    return run;
  }

  private async sealAll(sweep: boolean): Promise<number> {
    let sealed = 0;
    while (this.committed.length && this.head) {
      const rows = this.committed.splice(0, BATCH);
      const head = this.head;
      this.head = undefined;
      const next = await this.sealAfter(head, rows).catch(() => null);
      // Another instance (or the sweep) got there first: read the head and the unsealed rows instead.
      if (!next) break;
      this.head = next;
      sealed += rows.length;
    }
    if (!sweep && this.committed.length === 0 && this.head) return sealed;
    this.committed = [];
    for (let attempt = 0; attempt < 1000; attempt++) {
      const batch = await this.repo.unsealed(BATCH);
      if (batch.rows.length === 0) {
        this.head = { seq: batch.headSeq, hash: batch.headHash };
        return sealed;
      }
      const next = await this.sealAfter({ seq: batch.headSeq, hash: batch.headHash }, batch.rows);
      if (!next) continue;
      this.head = next;
      sealed += batch.rows.length;
      if (batch.rows.length < BATCH) return sealed;
    }
    return sealed;
  }

  private async sealAfter(head: { seq: bigint; hash: string }, rows: UnsealedRow[]): Promise<{ seq: bigint; hash: string } | null> {
    let prev = head.hash;
    let seq = head.seq;
    const hashes = rows.map((r) => (prev = chainMac(this.config.audit.chainKey, prev, ++seq, r.body)));
    const moved = await this.repo.seal(
      head.seq,
      head.hash,
      rows.map((r) => r.id),
      hashes,
    );
    return moved === null ? null : { seq: moved, hash: prev };
  }
}
