import { randomInt } from 'node:crypto';
import { constantTimeEqual, hmacSha256Hex, randomToken } from '../common/crypto.js';
import type { Keyring } from '../common/keyring.js';

// Crockford-like alphabet without 0/O, 1/I/L and U: readable over the phone, 30^8 ≈ 6.6·10^11 references.
const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newReference(): string {
  const pick = () => REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  const block = () => Array.from({ length: 4 }, pick).join('');
  return `OB-${block()}-${block()}`;
}

export const REFERENCE_PATTERN = /^OB-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/;

/** The status link's token: 256 bits, shown once to the partner; the database keeps only an HMAC. */
export function newStatusToken(): string {
  return randomToken(32);
}

export function statusTokenHash(key: Buffer, token: string): string {
  return hmacSha256Hex(key, `onboarding-status:${token}`);
}

/**
 * The status link goes out again with later emails (approval, changes requested), which staff actions
 * cause: the token is kept sealed under the master key, bound to its request, never in plaintext.
 */
export function sealStatusToken(keys: Keyring, requestId: string, token: string): string {
  return keys.seal(token, statusTokenAad(requestId));
}

export function openStatusToken(keys: Keyring, requestId: string, sealed: string): string {
  return keys.open(sealed, statusTokenAad(requestId)).toString();
}

export const statusTokenAad = (requestId: string) => `onboarding-status:${requestId}`;

export const STATUS_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A hidden field carrying when the intake form was served, signed so a bot cannot backdate it. The random
 * part makes each served form its own: the form can be sent once (the submission marks it used).
 */
export function signFormIssuedAt(key: Buffer, issuedAtMs: number, nonce = randomToken(16)): string {
  return `${issuedAtMs}.${nonce}.${hmacSha256Hex(key, `intake-form:${issuedAtMs}.${nonce}`)}`;
}

/** The time the form was served, or null when the field is missing or forged. */
export function verifyFormIssuedAt(key: Buffer, value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^([0-9]{13})\.([A-Za-z0-9_-]{22})\.([0-9a-f]{64})$/.exec(value);
  if (!m) return null;
  return constantTimeEqual(m[3], hmacSha256Hex(key, `intake-form:${m[1]}.${m[2]}`)) ? Number(m[1]) : null;
}
