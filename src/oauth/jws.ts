import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * Compact JWS with ES256 (RFC 7515/7518), signed synchronously with Node's crypto. jose's WebCrypto path
 * sends every signature through the libuv thread pool and back; on the token endpoint that round trip,
 * not the signature, dominated. Verification everywhere (tests, resource servers) stays with standard
 * libraries against the JWKS.
 */
export function signEs256Jwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  return signEs256JwtWithHeader(es256Header(header), claims, key);
}

/** The encoded protected header, which is the same for every token a key signs: made once per key by the caller. */
export function es256Header(header: Record<string, unknown>): string {
  return b64url(JSON.stringify({ alg: 'ES256', ...header }));
}

export function signEs256JwtWithHeader(encodedHeader: string, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${encodedHeader}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input, 'latin1'), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/**
 * Verifies one of our own compact ES256 JWS access tokens synchronously and returns its header and
 * claims, or null when it is not well formed or the signature does not verify under the key `keyFor`
 * returns for its kid. Claims (issuer, times) are the caller's to check.
 */
export function verifyEs256Jwt(
  token: string,
  keyFor: (kid: string) => KeyObject | undefined,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | null {
  if (token.length > 8192) return null;
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first < 1 || last === first || token.indexOf('.', first + 1) !== last) return null;
  const header = parseSegment(token.slice(0, first));
  if (!header || header.alg !== 'ES256' || typeof header.kid !== 'string') return null;
  const key = keyFor(header.kid);
  if (!key) return null;
  const signature = Buffer.from(token.slice(last + 1), 'base64url');
  if (signature.length !== 64) return null;
  if (!verify('sha256', Buffer.from(token.slice(0, last)), { key, dsaEncoding: 'ieee-p1363' }, signature)) return null;
  const claims = parseSegment(token.slice(first + 1, last));
  return claims ? { header, claims } : null;
}

function parseSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
