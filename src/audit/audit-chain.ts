import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

/**
 * The link of a keyed row: HMAC-SHA-256 under the chain key of the previous link, the row's seq and its
 * canonical body (the JSON array the database renders from the row's columns). Without the key nobody can
 * recompute a link after changing a row, or renumber rows after removing one.
 */
export function chainMac(key: Buffer, prevHash: string, seq: bigint, body: string): string {
  return createHmac('sha256', key).update(`${prevHash}\n${seq}\n${body}`, 'utf8').digest('hex');
}

/** Rows sealed before the chain was keyed: SHA-256 of the previous link and the canonical text (seq included). */
export function legacyHash(prevHash: string, canonical: string): string {
  return createHash('sha256')
    .update(prevHash + canonical, 'utf8')
    .digest('hex');
}

export function sameHash(a: string | null, b: string): boolean {
  if (a === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}
