import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { SealedColumn } from './sealed-columns.js';

export interface SealedValue {
  id: string;
  sealed: string;
}

/** Raw SQL over the sealed columns of other features' tables: the names come from SEALED_COLUMNS, never from input. */
@Injectable()
export class KeyRotationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Up to `limit` values not sealed under `currentId` whose id comes after `after` (null: from the start), in id
   * order, locked; rows another transaction holds are skipped. Each batch starts where the last one stopped, so a
   * pass over the table reads each row once (keyset pagination), however many values are already done.
   */
  async lockStale(tx: Tx, c: SealedColumn, currentId: string, limit: number, after: string | null): Promise<SealedValue[]> {
    // Two statements rather than `$n IS NULL OR id > $n`: the OR would keep the bound out of the index scan.
    // Ordered by the column itself (t.id), not by the text it is returned as: the order the bound compares in.
    const from = after === null ? '' : `AND t.${c.idColumn} > $3::text::${c.idType}`;
    return tx.$queryRawUnsafe<SealedValue[]>(
      `SELECT t.${c.idColumn}::text AS id, t.${c.column} AS sealed FROM ${c.table} AS t
        WHERE t.${c.column} IS NOT NULL AND t.${c.column} NOT LIKE $1 ${from}
        ORDER BY t.${c.idColumn} LIMIT $2 FOR UPDATE OF t SKIP LOCKED`,
      `v2.${currentId}.%`,
      limit,
      ...(after === null ? [] : [after]),
    );
  }

  /** Replaces sealed values in one statement, each only if it is still the one that was read; returns the ids replaced. */
  async replace(tx: Tx, c: SealedColumn, values: Array<{ id: string; before: string; after: string }>): Promise<string[]> {
    if (!values.length) return [];
    const rows = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `UPDATE ${c.table} AS t SET ${c.column} = v.after
         FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, before, after)
        WHERE t.${c.idColumn}::text = v.id AND t.${c.column} = v.before
      RETURNING t.${c.idColumn}::text AS id`,
      values.map((v) => v.id),
      values.map((v) => v.before),
      values.map((v) => v.after),
    );
    return rows.map((r) => r.id);
  }

  /** How many values each key id seals in this column ('v1' for values from before key ids). */
  async countByKey(c: SealedColumn): Promise<Record<string, number>> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ kid: string; n: bigint }>>(
      `SELECT CASE WHEN ${c.column} LIKE 'v2.%' THEN split_part(${c.column}, '.', 2) ELSE split_part(${c.column}, '.', 1) END AS kid, count(*) AS n
         FROM ${c.table} WHERE ${c.column} IS NOT NULL GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.kid, Number(r.n)]));
  }

  /** Client secrets that still count (pending or active) by the id of the hash key that made their hash. */
  async secretHashesByKey(): Promise<Record<string, number>> {
    const rows = await this.prisma.$queryRaw<Array<{ kid: string | null; n: bigint }>>`
      SELECT secret_hash_kid AS kid, count(*) AS n FROM credential_secret WHERE state IN ('pending_delivery', 'active') GROUP BY 1`;
    return Object.fromEntries(rows.map((r) => [r.kid ?? 'before key ids', Number(r.n)]));
  }
}
