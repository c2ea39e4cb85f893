import { generate, generateSecret, generateURI, verify } from 'otplib';
import { randomBytes } from 'node:crypto';

/** RFC 6238 defaults that every authenticator app understands: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_S = 30;
export const TOTP_ISSUER = 'Partner API credentials';
const SECRET_BYTES = 20;

export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

export function totpUri(secret: string, email: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: email, secret, period: TOTP_PERIOD_S, digits: 6, algorithm: 'sha1' });
}

export function isTotpShaped(code: string): boolean {
  return /^[0-9]{6}$/.test(code);
}

/**
 * The time step the code belongs to, or null. One step either side is accepted for clock drift;
 * replay protection (a step is used once) is the caller's conditional UPDATE, not this function.
 */
export async function matchTotp(secret: string, code: string, now: Date): Promise<number | null> {
  if (!isTotpShaped(code)) return null;
  const epoch = Math.floor(now.getTime() / 1000);
  const result = await verify({ secret, token: code, epoch, period: TOTP_PERIOD_S, epochTolerance: TOTP_PERIOD_S });
  return result.valid ? Math.floor(epoch / TOTP_PERIOD_S) + result.delta : null;
}

export function currentTotp(secret: string, now: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(now.getTime() / 1000), period: TOTP_PERIOD_S });
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

/** `xxxxx-xxxxx` from a 31-letter alphabet: about 50 bits each, plenty against a throttled guesser. */
export function newRecoveryCode(): string {
  const chars: string[] = [];
  while (chars.length < 10) {
    for (const b of randomBytes(16)) {
      if (b < 248 && chars.length < 10) chars.push(RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]);
    }
  }
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/** What people type varies in case, spaces and dashes; the stored hash is of this form. */
export function normaliseRecoveryCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (compact.length !== 10 || ![...compact].every((c) => RECOVERY_ALPHABET.includes(c))) return null;
  return `${compact.slice(0, 5)}-${compact.slice(5)}`;
}
