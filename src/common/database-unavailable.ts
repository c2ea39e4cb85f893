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

/**
 * True when PostgreSQL aborted the transaction to break a deadlock (40P01) or a serialization failure (40001):
 * nothing it did stands, and running it again is safe. Prisma names it P2034 for its own queries; a raw query's
 * error carries the PostgreSQL code in the driver adapter's cause.
 */
export function isWriteConflict(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    const x = e as { code?: unknown; originalCode?: unknown; kind?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (x.code === 'P2034' || x.code === '40P01' || x.code === '40001') return true;
    if (x.originalCode === '40P01' || x.originalCode === '40001' || x.kind === 'TransactionWriteConflict') return true;
    e = x.meta?.driverAdapterError ?? x.cause;
  }
  return false;
}
