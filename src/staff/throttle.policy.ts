/**
 * Sign-in back-off, as data: after `threshold` failures in a row the key is locked for `baseLockMs`,
 * doubling with each further failure up to `maxLockMs`. The lock always ends, so an attacker cannot
 * lock a victim out for good, and can try at most a handful of guesses per quarter of an hour.
 * Failures older than `forgetAfterMs` are forgotten.
 */
export interface ThrottlePolicy {
  threshold: number;
  baseLockMs: number;
  maxLockMs: number;
  forgetAfterMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { threshold: 5, baseLockMs: 60_000, maxLockMs: 15 * 60_000, forgetAfterMs: 24 * 3600_000 };
/** One address may serve a whole office, so it gets more room; it is never reset by a success. */
export const IP_POLICY: ThrottlePolicy = { threshold: 20, baseLockMs: 60_000, maxLockMs: 15 * 60_000, forgetAfterMs: 24 * 3600_000 };

/** How long to lock after the `failures`-th failure in a row (0 = no lock). */
export function lockDurationMs(policy: ThrottlePolicy, failures: number): number {
  if (!Number.isInteger(failures) || failures < policy.threshold) return 0;
  const doublings = failures - policy.threshold;
  // 2^doublings overflows long before it matters; cap the exponent first.
  if (doublings >= 30) return policy.maxLockMs;
  return Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** doublings);
}
