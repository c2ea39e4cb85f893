import { GoneError, InvalidInputError, LockedError, NotFoundError, RateLimitedError, type DomainError } from '../common/domain-error.js';
import { assertUnreachable } from '../common/error-codes.js';
import { LIMITS } from './delivery.limits.js';
import type { DeliveryRow } from './delivery.repository.js';
import { effectiveState, formatTime } from './delivery.service.js';

/**
 * How a transaction of the partner's steps ends, named for its effect on the database. The transaction callback
 * returns a `Settled`, so every refusal is one of two kinds, each spelled out where it is made:
 * - `refusedCounted(error)`: RETURNED, so the transaction COMMITS what was counted before the refusal (a wrong
 *   code, the audit row of a rejected code, a lock); `valueOf` throws the error after the commit. Without this,
 *   guessing codes would cost nothing.
 * - `refuseRollingBack(error)`: THROWN, so the transaction ROLLS BACK everything it did (a code that was issued
 *   but may not be sent). Any other error thrown inside (a failing internal step) rolls back the same way.
 */
export type Settled<T> = { outcome: 'done'; value: T } | RefusedCounted;
export interface RefusedCounted {
  outcome: 'refused_counted';
  error: DomainError;
  /** Lock the delivery in a transaction of its own once this one has committed. */
  lockAfter?: boolean;
}
export const done = <T>(value: T): Settled<T> => ({ outcome: 'done', value });
export const refusedCounted = (error: DomainError, lockAfter?: boolean): RefusedCounted => ({ outcome: 'refused_counted', error, lockAfter });
export function refuseRollingBack(error: DomainError): never {
  throw error;
}

/** After the commit: the value, or the refusal (whose counters have been committed). */
export function valueOf<T>(settled: Settled<T>): T {
  switch (settled.outcome) {
    case 'done':
      return settled.value;
    case 'refused_counted':
      throw settled.error;
    default:
      return assertUnreachable(settled);
  }
}

/** No code could be issued: all used up (locking the delivery when the last one is no longer usable) or too soon. */
export function noCodeRefusal(d: Pick<DeliveryRow, 'codesSent' | 'codeExpiresAt' | 'codeSentAt'>, now: Date): RefusedCounted {
  if (d.codesSent >= LIMITS.codesPerDelivery) {
    const usable = !!d.codeExpiresAt && d.codeExpiresAt > now;
    const message = usable
      ? 'No more codes can be sent. Use the last code you received.'
      : 'No more codes can be sent for this link. Business Journeys has been told and will send you a new one.';
    return refusedCounted(new LockedError('delivery/no_codes_left', message), !usable);
  }
  const wait = secondsUntil(new Date((d.codeSentAt?.getTime() ?? now.getTime()) + LIMITS.resendAfterMs), now);
  return refusedCounted(new RateLimitedError('delivery/code_resend_too_soon', `A code was just sent. You can ask for another one in ${wait} seconds.`, wait));
}

/**
 * After a wrong code was counted: what the partner is told, and whether the delivery locks now (its last code
 * voided). Always a counted refusal: the count commits.
 */
export function wrongCodeRefusal(
  wrong: { codeWrong: number; codesSent: number; voided: boolean } | null,
  addressBlockedUntil: Date | null,
  now: Date,
): RefusedCounted & { lockDelivery: boolean } {
  if (wrong?.voided && wrong.codesSent >= LIMITS.codesPerDelivery) return { ...refusedCounted(lockedError()), lockDelivery: true };
  if (addressBlockedUntil && addressBlockedUntil > now) return { ...refusedCounted(tooManyFromAddress(addressBlockedUntil, now)), lockDelivery: false };
  if (wrong?.voided)
    return {
      ...refusedCounted(new InvalidInputError('delivery/code_voided', 'That code was entered wrongly too often and no longer works. Ask for a new code.')),
      lockDelivery: false,
    };
  const left = LIMITS.wrongPerCode - (wrong?.codeWrong ?? LIMITS.wrongPerCode);
  const error = new InvalidInputError(
    'delivery/wrong_code',
    `That code is not correct. You can try ${left} more time${left === 1 ? '' : 's'} with this code.`,
    { attemptsLeft: left },
  );
  return { ...refusedCounted(error), lockDelivery: false };
}

export function closedError(d: Pick<DeliveryRow, 'state' | 'expiresAt' | 'revealedAt'>, now: Date): DomainError | null {
  switch (effectiveState(d, now)) {
    case 'pending':
      return null;
    case 'revealed':
      return new GoneError('delivery/already_revealed', `This secret was already retrieved on ${formatTime(d.revealedAt!)}. It is shown only once.`, {
        revealedAt: d.revealedAt!.toISOString(),
      });
    case 'expired':
      return new GoneError('delivery/expired', 'This link has expired. Ask your Business Journeys contact to send a new one.');
    case 'cancelled':
      return new GoneError('delivery/cancelled', 'This link is no longer valid: a newer one was sent.');
    case 'locked':
      return lockedError();
  }
}

export const lockedError = () =>
  new LockedError('delivery/locked', 'This link is locked after too many wrong codes. Business Journeys has been told and will send you a new one.');
export const notFound = () => new NotFoundError('delivery/not_found', 'This link is not valid. Check that you copied the whole link from the email.');

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

export function tooManyFromAddress(until: Date, now: Date): RateLimitedError {
  const wait = secondsUntil(until, now);
  return new RateLimitedError('delivery/too_many_attempts', `Too many wrong codes from your network. Try again in ${Math.ceil(wait / 60)} minutes.`, wait);
}
