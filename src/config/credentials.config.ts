import { wholeNumber } from './env-values.js';

export interface CredentialsConfig {
  /** Access token lifetime (TOKEN_TTL_SECONDS, default 900). */
  tokenTtlSeconds: number;
  /** A signing key signs for this many days, then a new one takes over (SIGNING_KEY_ROTATION_DAYS, 30). */
  signingKeyRotationDays: number;
  /** Default overlap of old and new secret after a rotation's reveal (OVERLAP_DAYS, 7). */
  overlapDays: number;
  /** How long a secret is valid from activation (SECRET_LIFETIME_DAYS, 365). */
  secretLifetimeDays: number;
  /** The old secret must have been unused this long before staff may end an overlap early (OVERLAP_QUIET_HOURS, 24). */
  overlapQuietHours: number;
  /** Failed token requests allowed per client_id / per IP in one window (OAUTH_FAILURES_PER_CLIENT 10, OAUTH_FAILURES_PER_IP 50, OAUTH_FAILURE_WINDOW_SECONDS 300). */
  failuresPerClient: number;
  failuresPerIp: number;
  failureWindowSeconds: number;
  /** How often failures refused with 429 (counted in memory) are written (OAUTH_FAILURE_FLUSH_MS, 1000). */
  failureFlushMs: number;
  /** How often last-used times are written (LAST_USED_FLUSH_MS, 5000). */
  lastUsedFlushMs: number;
  /** A NOTIFY round trip through the cache listener this often; one that does not come back by the next marks it unhealthy (CREDENTIAL_LISTENER_HEARTBEAT_MS, 5000). */
  listenerHeartbeatMs: number;
  /** A cached client record is read again from the database after this long, listener or not (CLIENT_CACHE_MAX_AGE_SECONDS, 30). */
  clientCacheMaxAgeSeconds: number;
}

export function credentialsConfig(env: NodeJS.ProcessEnv, problems: string[]): CredentialsConfig {
  const num = (name: string, fallback: number, min: number, max: number) => wholeNumber(env, problems, name, fallback, min, max);
  return {
    tokenTtlSeconds: num('TOKEN_TTL_SECONDS', 900, 60, 86400),
    signingKeyRotationDays: num('SIGNING_KEY_ROTATION_DAYS', 30, 1, 365),
    overlapDays: num('OVERLAP_DAYS', 7, 0, 90),
    secretLifetimeDays: num('SECRET_LIFETIME_DAYS', 365, 2, 3650),
    overlapQuietHours: num('OVERLAP_QUIET_HOURS', 24, 0, 24 * 90),
    failuresPerClient: num('OAUTH_FAILURES_PER_CLIENT', 10, 1, 100000),
    failuresPerIp: num('OAUTH_FAILURES_PER_IP', 50, 1, 1000000),
    failureWindowSeconds: num('OAUTH_FAILURE_WINDOW_SECONDS', 300, 10, 86400),
    failureFlushMs: num('OAUTH_FAILURE_FLUSH_MS', 1000, 100, 600000),
    lastUsedFlushMs: num('LAST_USED_FLUSH_MS', 5000, 100, 600000),
    listenerHeartbeatMs: num('CREDENTIAL_LISTENER_HEARTBEAT_MS', 5000, 200, 60000),
    clientCacheMaxAgeSeconds: num('CLIENT_CACHE_MAX_AGE_SECONDS', 30, 1, 3600),
  };
}
