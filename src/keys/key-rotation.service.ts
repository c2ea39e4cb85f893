import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Keyring, keyId } from '../common/keyring.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { KeyRotationRepository } from './key-rotation.repository.js';
import { SEALED_COLUMNS } from './sealed-columns.js';

export interface ResealReport {
  toKey: string;
  resealed: number;
  /** Values no configured key opens (their key was dropped from the configuration): left as they are. */
  unreadable: Array<{ table: string; id: string; reason: string }>;
  batches: number;
  ms: number;
}

export interface KeyStatus {
  masterKey: { current: string; configured: string[]; sealed: Array<{ table: string; column: string; byKey: Record<string, number> }>; notCurrent: number };
  secretHashKey: { current: string; previous: string[]; clientSecretsByKey: Record<string, number>; notCurrent: number };
}

/** Passes over one column at most: the first does the work, later ones pick up what changed under it. */
const MAX_PASSES = 5;

/**
 * Master key rotation: values sealed under an earlier key (or before key ids) are opened and sealed again
 * under the current key, online, a batch per transaction (rows in use by another transaction are skipped and
 * picked up by a later pass), each batch with its audit row. Batches walk each table in id order from the last id
 * read (keyset pagination), so a pass costs one read of the table, not one per batch.
 */
@Injectable()
export class KeyRotationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: KeyRotationRepository,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * `onBatch` runs after each committed batch with the id the next batch starts after (null: a new pass begins).
   */
  async reseal(opts: { batchSize?: number; onBatch?: (b: { table: string; after: string | null }) => Promise<void> } = {}): Promise<ResealReport> {
    const ring = this.config.masterKeys;
    const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
    const started = Date.now();
    const report: ResealReport = { toKey: ring.currentId, resealed: 0, unreadable: [], batches: 0, ms: 0 };
    for (const c of SEALED_COLUMNS) {
      const unreadable = new Set<string>();
      // A pass walks the table once in id order. Rows it could not take (held by another transaction, changed
      // after it read them, or written under an old key behind it) are left for the next pass, which runs
      // while the last one re-sealed anything; a pass that re-seals nothing ends the column.
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        let after: string | null = null;
        let resealedInPass = 0;
        for (;;) {
          const done = await this.prisma.transaction(async (tx) => {
            const rows = await this.repo.lockStale(tx, c, ring.currentId, batchSize, after);
            const resealed: Array<{ id: string; before: string; after: string }> = [];
            for (const r of rows) {
              if (unreadable.has(r.id)) continue;
              let plain: Buffer;
              try {
                plain = ring.open(r.sealed, c.aad(r.id));
              } catch (err) {
                unreadable.add(r.id);
                report.unreadable.push({ table: c.table, id: r.id, reason: err instanceof Error ? err.message : 'cannot open' });
                continue;
              }
              resealed.push({ id: r.id, before: r.sealed, after: ring.seal(plain, c.aad(r.id)) });
              plain.fill(0);
            }
            const replaced = new Set(await this.repo.replace(tx, c, resealed));
            const fromKeys: Record<string, number> = {};
            for (const v of resealed) {
              if (!replaced.has(v.id)) continue;
              const from = Keyring.idOf(v.before) ?? 'v1';
              fromKeys[from] = (fromKeys[from] ?? 0) + 1;
            }
            const n = replaced.size;
            if (n) {
              await this.audit.record(tx, systemContext(), {
                action: 'keys.resealed',
                subjectType: 'master_key',
                subjectId: ring.currentId,
                detail: { table: c.table, column: c.column, count: n, fromKeys },
              });
            }
            return { read: rows.length, last: rows.length ? rows[rows.length - 1].id : null, n };
          });
          report.resealed += done.n;
          resealedInPass += done.n;
          if (done.n) report.batches++;
          after = done.read < batchSize ? null : done.last;
          await opts.onBatch?.({ table: c.table, after });
          if (after === null) break;
        }
        if (resealedInPass === 0) break;
      }
    }
    report.ms = Date.now() - started;
    this.logger.info(
      { toKey: report.toKey, resealed: report.resealed, unreadable: report.unreadable.length, ms: report.ms },
      'master key rotation: values re-sealed',
    );
    return report;
  }

  async status(): Promise<KeyStatus> {
    const ring = this.config.masterKeys;
    const sealed = [];
    let notCurrent = 0;
    for (const c of SEALED_COLUMNS) {
      const byKey = await this.repo.countByKey(c);
      for (const [k, n] of Object.entries(byKey)) if (k !== ring.currentId) notCurrent += n;
      sealed.push({ table: c.table, column: c.column, byKey });
    }
    const current = keyId(this.config.secretHashKey);
    const clientSecretsByKey = await this.repo.secretHashesByKey();
    const hashNotCurrent = Object.entries(clientSecretsByKey).reduce((sum, [k, n]) => (k === current ? sum : sum + n), 0);
    return {
      masterKey: { current: ring.currentId, configured: ring.ids, sealed, notCurrent },
      secretHashKey: { current, previous: this.config.secretHashKeysPrevious.map(keyId), clientSecretsByKey, notCurrent: hashNotCurrent },
    };
  }
}
