import { sign, type KeyObject } from 'node:crypto';

/**
 * Compact JWS with ES256 (RFC 7515/7518), signed synchronously with Node's crypto. jose's WebCrypto path
 * sends every signature through the libuv thread pool and back; on the token endpoint that round trip,
 * not the signature, dominated. Verification everywhere (tests, resource servers) stays with standard
 * libraries against the JWKS.
 */
export function signEs256Jwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', ...header }))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
