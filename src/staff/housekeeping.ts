import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { JobQueue } from '../notifications/job-queue.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { PendingLoginRepository } from './pending-login.repository.js';
import { ACCOUNT_POLICY, IP_POLICY } from './throttle.policy.js';

export const STAFF_HOUSEKEEPING_QUEUE = 'staff-housekeeping';

/**
 * Spent pending sign-ins and forgotten throttle counters are deleted now and then, so a password
 * spray with made-up addresses cannot grow the tables without bound. Shared rows: a pg-boss schedule runs it
 * every 15 minutes on one instance; a second run in the same period would find nothing left to delete.
 */
@Injectable()
export class StaffHousekeeping implements OnModuleInit {
  constructor(
    private readonly throttle: LoginThrottleRepository,
    private readonly pending: PendingLoginRepository,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.queue.register(
      STAFF_HOUSEKEEPING_QUEUE,
      { policy: 'stately', retryLimit: 2, retryDelay: 60, expireInSeconds: 300 },
      async () => void (await this.purge()),
      '*/15 * * * *',
    );
  }

  async purge(): Promise<{ throttleRows: number; pendingLogins: number }> {
    const now = this.clock.now();
    const forget = Math.max(ACCOUNT_POLICY.forgetAfterMs, IP_POLICY.forgetAfterMs);
    const throttleRows = await this.throttle.purge(now, new Date(now.getTime() - forget));
    const pendingLogins = await this.pending.purgeExpiredBefore(new Date(now.getTime() - 24 * 3600_000));
    return { throttleRows, pendingLogins };
  }
}
