import type { IncomingMessage } from 'node:http';

export const FORM = 'application/x-www-form-urlencoded';

/**
 * The declared length of a plain form body that the token endpoints may read themselves, or -1 when
 * Fastify's own body parsing must handle the request (another media type, no or an oversized length,
 * chunked or compressed transfer): those requests keep the answers that path gives.
 */
export function plainFormLength(headers: IncomingMessage['headers'], limit: number): number {
  const type = headers['content-type'];
  if (typeof type !== 'string' || headers['transfer-encoding'] !== undefined || headers['content-encoding'] !== undefined) return -1;
  const semi = type.indexOf(';');
  if ((semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() !== FORM) return -1;
  const raw = headers['content-length'];
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw)) return -1;
  const length = Number(raw);
  return length <= limit ? length : -1;
}

/** Reads exactly `length` bytes of body; null when the stream ends with another count (the request is malformed). */
export function readBody(raw: IncomingMessage, length: number, done: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  raw.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= length) chunks.push(chunk);
  });
  raw.on('end', () => done(size === length ? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8') : null));
  // A client that goes away mid-body gets no answer; the socket is already gone.
  raw.on('error', () => raw.destroy());
}

/**
 * Parses a urlencoded body exactly as the service's Fastify body parser does (fast-querystring): '+' is a
 * space, a repeated name gives an array, a part that does not percent-decode is kept as sent. The result
 * has no prototype, so `__proto__` is an ordinary key (the caller refuses it, as that parser does).
 */
export function parseForm(input: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  let start = 0;
  while (start <= input.length) {
    let end = input.indexOf('&', start);
    if (end < 0) end = input.length;
    const eq = input.indexOf('=', start);
    const hasValue = eq >= 0 && eq < end;
    const key = decodePart(input.slice(start, hasValue ? eq : end));
    if (hasValue || key.length > 0) {
      const value = hasValue ? decodePart(input.slice(eq + 1, end)) : '';
      const current = out[key];
      if (current === undefined) out[key] = value;
      else if (Array.isArray(current)) current.push(value);
      else out[key] = [current, value];
    }
    start = end + 1;
  }
  return out;
}

function decodePart(s: string): string {
  const spaced = s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s;
  if (spaced.indexOf('%') < 0) return spaced;
  try {
    return decodeURIComponent(spaced) || spaced;
  } catch {
    return spaced;
  }
}
