const CONNECTION_CODES = new Set([
  // Prisma: cannot reach / timed out / connection closed / pool timeout
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, connection exceptions
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);
const CONNECTION_MESSAGE =
  /connection terminated|terminating connection|server closed the connection|connection (is )?closed|can't reach database|timed out fetching a new connection/i;

/**
 * True when the error means "the database went away" rather than "this request is wrong or we have a
 * bug": the caller gets a retryable 503, not a 500. Walks the cause chain, where driver adapters put
 * the PostgreSQL error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const x = e as { code?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown };
    if (typeof x.code === 'string' && CONNECTION_CODES.has(x.code)) return true;
    if (typeof x.originalCode === 'string' && CONNECTION_CODES.has(x.originalCode)) return true;
    if (typeof x.message === 'string' && CONNECTION_MESSAGE.test(x.message)) return true;
    e = x.cause;
  }
  return false;
}
