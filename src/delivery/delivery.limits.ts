/**
 * Two tiers (after OneTimeSecret's approach): the per-address tier trips first and only slows that address
 * down; the delivery itself locks only after a much larger total, so someone who got hold of the link cannot
 * cheaply lock the real recipient out.
 */
export const LIMITS = {
  codeValidityMs: 10 * 60_000,
  /** Wrong tries before a code is void (a new one must be requested). */
  wrongPerCode: 5,
  /** Codes a delivery may send; the delivery locks when the last one is voided by wrong tries. */
  codesPerDelivery: 3,
  resendAfterMs: 60_000,
  /** Per address and delivery, within one window: wrong tries, then code requests. */
  ipWindowMs: 15 * 60_000,
  ipWrongPerWindow: 3,
  ipCodeRequestsPerWindow: 2,
  ipBlockMs: 15 * 60_000,
} as const;
