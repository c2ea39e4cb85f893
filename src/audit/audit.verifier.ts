import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { GENESIS, chainMac, legacyHash, sameHash } from './audit-chain.js';
import { AuditRepository } from './audit.repository.js';
import type { ChainVerification } from './audit.types.js';
import type { SignedCheckpoint } from './checkpoint.js';

/**
 * Rows are sealed right after commit, and by a sweep every second on every instance; a row still unsealed this
 * long after its transaction began means sealing is failing (a missing grant, a wrong key), and the trail's
 * newest events are neither chained nor listed.
 */
export const STALE_UNSEALED_MINUTES = 5;

export interface VerifyInput {
  /** Checkpoints whose signatures were checked already. */
  checkpoints: SignedCheckpoint[];
  /** Checkpoint files that were given but could not be accepted; any of them makes the result not ok. */
  rejected: Array<{ file: string; reason: string }>;
}

/**
 * Walks the chain up to the head it read first (rows sealed later are not its business, so writers running
 * meanwhile cannot cause a false alarm), recomputing every link with the chain key and comparing the chain
 * with each signed checkpoint it is given. The first row that does not match is named.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly repo: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async verify(input: VerifyInput = { checkpoints: [], rejected: [] }, batch = 5000): Promise<ChainVerification> {
    const head = await this.repo.head();
    const unsealed = await this.repo.unsealedSummary(STALE_UNSEALED_MINUTES);
    const checkpoints = [...input.checkpoints].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));
    let checked = 0;
    let matched = 0;
    let lastMatched: bigint = 0n;
    const summary = () => ({
      checked,
      headSeq: head.seq.toString(),
      headHash: head.hash,
      keyedFrom: head.keyedFrom.toString(),
      checkpoints: { given: checkpoints.length, matched, rejected: input.rejected },
      unsealed,
    });
    const broken = (seq: string, id: string, reason: string): ChainVerification => ({ ok: false, ...summary(), firstBroken: { seq, id, reason } });

    const moved = checkpoints.find((c) => BigInt(c.keyedFrom) !== head.keyedFrom);
    if (moved)
      return broken('', '', `the chain head's keyed_from (${head.keyedFrom}) differs from the checkpoint signed at ${moved.signedAt} (${moved.keyedFrom})`);

    let next = 0;
    while (next < checkpoints.length && checkpoints[next].seq === '0') {
      if (checkpoints[next].headHash !== GENESIS) return broken('0', '', 'a checkpoint of the empty chain carries a head hash');
      next++;
    }
    let prev = GENESIS;
    let expected = 1n;
    for (;;) {
      const rows = await this.repo.chainRows(expected - 1n, head.seq, head.keyedFrom, batch);
      for (const row of rows) {
        const seq = BigInt(row.seq);
        if (seq !== expected) return broken(row.seq, row.id, `sequence gap: expected ${expected} (rows removed or renumbered)`);
        if (!sameHash(row.prev_hash, prev)) return broken(row.seq, row.id, 'prev_hash does not match the previous row');
        const hash = seq < head.keyedFrom ? legacyHash(prev, row.canonical) : chainMac(this.config.audit.chainKey, prev, seq, row.canonical);
        if (!sameHash(row.hash, hash))
          return broken(row.seq, row.id, 'content does not match its MAC (the row was changed, or the chain recomputed without the key)');
        for (; next < checkpoints.length && BigInt(checkpoints[next].seq) === seq; next++) {
          const c = checkpoints[next];
          if (!sameHash(row.hash, c.headHash)) {
            return broken(
              row.seq,
              row.id,
              `does not match the checkpoint signed at ${c.signedAt}: the chain was rewritten after seq ${lastMatched} up to here`,
            );
          }
          matched++;
          lastMatched = seq;
        }
        prev = row.hash!;
        expected++;
        checked++;
      }
      if (rows.length < batch) break;
    }
    if (BigInt(checked) !== head.seq || !sameHash(prev, head.hash)) {
      return broken(String(checked + 1), '', `the chain head (seq ${head.seq}) does not match the last row (seq ${checked}): rows removed at the end?`);
    }
    if (next < checkpoints.length) {
      const c = checkpoints[next];
      return broken(String(head.seq + 1n), '', `truncated: the checkpoint signed at ${c.signedAt} covers seq ${c.seq}, the chain ends at seq ${head.seq}`);
    }
    if (unsealed.stale > 0) {
      return {
        ok: false,
        ...summary(),
        firstBroken: {
          seq: '',
          id: '',
          reason: `${unsealed.stale} committed rows are still unsealed after ${STALE_UNSEALED_MINUTES} minutes: sealing is failing (see the service's log)`,
        },
      };
    }
    if (input.rejected.length) {
      return { ok: false, ...summary(), firstBroken: { seq: '', id: '', reason: `checkpoint ${input.rejected[0].file}: ${input.rejected[0].reason}` } };
    }
    return { ok: true, ...summary() };
  }
}
