import { hkdfSync, randomBytes } from 'node:crypto';
import { generateSync, verifySync } from 'otplib';
import { hmacSha256Hex, open, randomToken, seal } from '../common/crypto.js';
import { InvalidInputError } from '../common/domain-error.js';
import type { Keyring } from '../common/keyring.js';

/** 32 random bytes, base64url: 256 bits, of which the server keeps only an HMAC. */
export const LINK_TOKEN_BYTES = 32;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
export const CODE_DIGITS = 8;
const CODE = new RegExp(`^\\d{${CODE_DIGITS}}$`);

export function newLinkToken(): string {
  return randomToken(LINK_TOKEN_BYTES);
}

export function linkTokenHash(secretHashKey: Buffer, token: string): string {
  return hmacSha256Hex(secretHashKey, `delivery-link:${token}`);
}

/**
 * Accepts what a person may paste: the bare token, or the whole link with the token in its fragment.
 * Messages never repeat the input.
 */
export function parseLinkToken(input: unknown): string {
  const raw = typeof input === 'string' ? input.trim() : '';
  const token = raw.includes('#') ? raw.slice(raw.lastIndexOf('#') + 1) : raw;
  if (!TOKEN.test(token)) throw new InvalidInputError('delivery/invalid_link', 'This is not a valid link. Copy the whole link from the email.');
  return token;
}

export function parseCode(input: unknown): string {
  const code = typeof input === 'string' ? input.replace(/[\s-]/g, '') : '';
  if (!CODE.test(code)) throw new InvalidInputError('delivery/invalid_code', `Enter the ${CODE_DIGITS}-digit code from the text message.`);
  return code;
}

/** The key for one delivery's secret: HKDF-SHA-256 of the link token, bound to the delivery id. */
function secretKey(token: string, deliveryId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'base64url'), Buffer.from(deliveryId, 'utf8'), `delivery-secret:v1:${deliveryId}`, 32));
}

export function sealSecret(token: string, deliveryId: string, secret: string): string {
  const key = secretKey(token, deliveryId);
  try {
    return seal(key, secret, `delivery:${deliveryId}`);
  } finally {
    key.fill(0);
  }
}

/** Throws when the token is not the one the secret was sealed under. */
export function openSecret(token: string, deliveryId: string, sealed: string): string {
  const key = secretKey(token, deliveryId);
  try {
    return open(key, sealed, `delivery:${deliveryId}`).toString('utf8');
  } finally {
    key.fill(0);
  }
}

export function newHotpSecret(): Buffer {
  return randomBytes(20);
}

export function sealHotpSecret(masterKeys: Keyring, deliveryId: string, secret: Buffer): string {
  return masterKeys.seal(secret, `delivery-hotp:${deliveryId}`);
}

function hotpSecret(masterKeys: Keyring, deliveryId: string, sealed: string): Uint8Array {
  return new Uint8Array(masterKeys.open(sealed, `delivery-hotp:${deliveryId}`));
}

export function hotpCode(masterKey: Keyring, deliveryId: string, sealed: string, counter: number): string {
  return generateSync({ strategy: 'hotp', secret: hotpSecret(masterKey, deliveryId, sealed), counter, digits: CODE_DIGITS } as never);
}

/** Only the current counter: a code is accepted for the one request that produced it. Constant time inside otplib. */
export function hotpVerify(masterKey: Keyring, deliveryId: string, sealed: string, counter: number, code: string): boolean {
  const r = verifySync({
    strategy: 'hotp',
    secret: hotpSecret(masterKey, deliveryId, sealed),
    counter,
    digits: CODE_DIGITS,
    token: code,
    counterTolerance: 0,
  } as never) as { valid: boolean };
  return r.valid === true;
}
