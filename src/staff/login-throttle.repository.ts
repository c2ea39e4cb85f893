import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

export interface ThrottleCharge {
  /** false: the key was locked, nothing was counted. */
  allowed: boolean;
  failures: number;
  lockedUntil: Date | null;
}

@Injectable()
export class LoginThrottleRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Counts one attempt against `key` unless it is locked, in one conditional UPDATE; the row stays
   * locked by this transaction until commit, so concurrent attempts queue and see the new count.
   */
  async charge(tx: Tx, key: string, now: Date, forgetBefore: Date): Promise<ThrottleCharge> {
    await tx.$executeRaw`INSERT INTO staff_login_throttle (key) VALUES (${key}) ON CONFLICT (key) DO NOTHING`;
    const rows = await tx.$queryRaw<Array<{ failures: number }>>`
      UPDATE staff_login_throttle
         SET failures = CASE WHEN last_failure_at IS NULL OR last_failure_at < ${forgetBefore} THEN 1 ELSE failures + 1 END,
             last_failure_at = ${now}
       WHERE key = ${key} AND (locked_until IS NULL OR locked_until <= ${now})
      RETURNING failures`;
    if (rows.length === 0) {
      const row = await tx.staffLoginThrottle.findUniqueOrThrow({ where: { key }, select: { failures: true, lockedUntil: true } });
      return { allowed: false, failures: row.failures, lockedUntil: row.lockedUntil };
    }
    return { allowed: true, failures: rows[0].failures, lockedUntil: null };
  }

  async lock(tx: Tx, key: string, until: Date): Promise<void> {
    await tx.staffLoginThrottle.update({ where: { key }, data: { lockedUntil: until } });
  }

  /**
   * Gives back one counted attempt that turned out right, and lifts the lock that this very attempt
   * set (recognised by its exact end time), leaving any other lock alone.
   */
  async refund(tx: Tx, key: string, lockThisAttemptSet: Date | null): Promise<void> {
    await tx.$executeRaw`
      UPDATE staff_login_throttle
         SET failures = GREATEST(failures - 1, 0),
             locked_until = CASE WHEN locked_until = ${lockThisAttemptSet} THEN NULL ELSE locked_until END
       WHERE key = ${key}`;
  }

  async reset(tx: Tx, key: string): Promise<void> {
    await tx.staffLoginThrottle.updateMany({ where: { key }, data: { failures: 0, lockedUntil: null, lastFailureAt: null } });
  }

  /** Rows that no longer lock anything and whose failures are forgotten anyway. */
  async purge(now: Date, forgetBefore: Date): Promise<number> {
    return this.prisma.staffLoginThrottle
      .deleteMany({
        where: {
          AND: [{ OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] }, { OR: [{ lastFailureAt: null }, { lastFailureAt: { lt: forgetBefore } }] }],
        },
      })
      .then((r) => r.count);
  }
}
