import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { PendingLoginRepository } from './pending-login.repository.js';
import { ACCOUNT_POLICY, IP_POLICY } from './throttle.policy.js';

const EVERY_MS = 15 * 60_000;

/**
 * Spent pending sign-ins and forgotten throttle counters are deleted now and then, so a password
 * spray with made-up addresses cannot grow the tables without bound.
 */
@Injectable()
export class StaffHousekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly throttle: LoginThrottleRepository,
    private readonly pending: PendingLoginRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.nodeEnv === 'test') return;
    this.timer = setInterval(() => void this.purge().catch((err) => this.logger.warn({ err }, 'staff housekeeping failed')), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async purge(): Promise<{ throttleRows: number; pendingLogins: number }> {
    const now = this.clock.now();
    const forget = Math.max(ACCOUNT_POLICY.forgetAfterMs, IP_POLICY.forgetAfterMs);
    const throttleRows = await this.throttle.purge(now, new Date(now.getTime() - forget));
    const pendingLogins = await this.pending.purgeExpiredBefore(new Date(now.getTime() - 24 * 3600_000));
    return { throttleRows, pendingLogins };
  }
}
