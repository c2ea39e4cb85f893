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

/**
 * Master key rotation: values sealed under an earlier key (or before key ids) are opened and sealed again
 * under the current key, online, a batch per transaction (rows in use by another transaction are skipped and
 * picked up by a later pass), each batch with its audit row.
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

  async reseal(opts: { batchSize?: number } = {}): Promise<ResealReport> {
    const ring = this.config.masterKeys;
    const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
    const started = Date.now();
    const report: ResealReport = { toKey: ring.currentId, resealed: 0, unreadable: [], batches: 0, ms: 0 };
    for (const c of SEALED_COLUMNS) {
      const skip: string[] = [];
      for (;;) {
        const done = await this.prisma.transaction(async (tx) => {
          const rows = await this.repo.lockStale(tx, c, ring.currentId, batchSize, skip);
          const resealed: Array<{ id: string; before: string; after: string }> = [];
          for (const r of rows) {
            let plain: Buffer;
            try {
              plain = ring.open(r.sealed, c.aad(r.id));
            } catch (err) {
              skip.push(r.id);
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
          return { read: rows.length, n };
        });
        report.resealed += done.n;
        if (done.n) report.batches++;
        if (done.read < batchSize) break;
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
