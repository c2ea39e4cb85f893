import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { hmacSha256Hex, sha256Hex } from '../common/crypto.js';
import type { Tx } from '../prisma/prisma.service.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { ACCOUNT_POLICY, IP_POLICY, lockDurationMs, type ThrottlePolicy } from './throttle.policy.js';

export interface AttemptKeys {
  account: string;
  /** null for a browser that signed in to this account before: the address's lock does not apply to it. */
  ip: string | null;
}

export type ChargeOutcome =
  { allowed: true; /** Locks this attempt set; they stand if it fails. */ newLocks: NewLock[] } | { allowed: false; lockedScope: 'account' | 'ip' };

/**
 * Every attempt is counted before the password or code is checked (so concurrent attempts cannot
 * slip past the limit), and given back when it turns out right.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    private readonly repo: LoginThrottleRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Keyed by a keyed hash of the email, known or not: an unknown address throttles exactly like a real
   * one. A browser that signed in to this account before (a valid device cookie) gets a counter of its
   * own instead, and is not held to the address's counter at all: an attacker who keeps the account's
   * counter locked, or the counter of an address a whole office shares behind one proxy, does not lock
   * its owner out. The device counter still limits guessing from a stolen device cookie.
   */
  keysFor(email: string, clientIp: string | null, trustedDevice?: string): AttemptKeys {
    if (trustedDevice) return { account: `device:${sha256Hex(trustedDevice)}`, ip: null };
    return { account: `account:${hmacSha256Hex(this.config.secretHashKey, `staff-email:${email}`)}`, ip: `ip:${clientIp ?? 'unknown'}` };
  }

  /** The address is charged first: a locked address does not get to push a victim's account towards a lock. */
  async charge(tx: Tx, keys: AttemptKeys, now: Date): Promise<ChargeOutcome> {
    const newLocks: NewLock[] = [];
    for (const [scope, key, policy] of [
      ['ip', keys.ip, IP_POLICY],
      ['account', keys.account, ACCOUNT_POLICY],
    ] as Array<['ip' | 'account', string | null, ThrottlePolicy]>) {
      if (key === null) continue;
      const c = await this.repo.charge(tx, key, now, new Date(now.getTime() - policy.forgetAfterMs));
      if (!c.allowed) return { allowed: false, lockedScope: scope };
      const ms = lockDurationMs(policy, c.failures);
      if (ms > 0) {
        const until = new Date(now.getTime() + ms);
        await this.repo.lock(tx, key, until);
        newLocks.push({ scope, until });
      }
    }
    return { allowed: true, newLocks };
  }

  /** A right password: give the attempt back, but keep earlier failures (a known password must not reset code guessing). */
  async refundAttempt(tx: Tx, keys: AttemptKeys, charged: NewLock[]): Promise<void> {
    if (keys.ip) await this.repo.refund(tx, keys.ip, lockOf(charged, 'ip'));
    await this.repo.refund(tx, keys.account, lockOf(charged, 'account'));
  }

  /** A completed sign-in clears the account's count; the address only gets this attempt back. */
  async succeeded(tx: Tx, keys: AttemptKeys, charged: NewLock[]): Promise<void> {
    if (keys.ip) await this.repo.refund(tx, keys.ip, lockOf(charged, 'ip'));
    await this.repo.reset(tx, keys.account);
  }
}

export interface NewLock {
  scope: 'account' | 'ip';
  until: Date;
}

function lockOf(locks: NewLock[], scope: NewLock['scope']): Date | null {
  return locks.find((l) => l.scope === scope)?.until ?? null;
}
