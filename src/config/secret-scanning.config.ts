import { wholeNumber } from './env-values.js';

export const GITHUB_SECRET_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

export interface SecretScanningConfig {
  /** Whether POST /secret-scanning/github answers (SECRET_SCANNING_ENABLED, default false: 404 until turned on). */
  enabled: boolean;
  /** Where the alert signing keys are published (SECRET_SCANNING_KEYS_URL, GitHub's meta endpoint). */
  keysUrl: string;
  /** An unknown key id refreshes the keys at most this often (SECRET_SCANNING_KEY_REFRESH_SECONDS, 60). */
  keyRefreshSeconds: number;
  /** Largest alert body accepted (SECRET_SCANNING_MAX_BODY_BYTES, 1 MiB). */
  maxBodyBytes: number;
  /** Most tokens in one alert (SECRET_SCANNING_MAX_TOKENS, 5000). */
  maxTokens: number;
  /** The same signed alert within this window answers the same without acting again (SECRET_SCANNING_REPLAY_HOURS, 24). */
  replayHours: number;
  /** Leak reports from the public form per client IP per hour (LEAK_REPORTS_PER_HOUR, 10). */
  reportsPerHour: number;
}

export function secretScanningConfig(env: NodeJS.ProcessEnv, problems: string[]): SecretScanningConfig {
  const num = (name: string, fallback: number, min: number, max: number) => wholeNumber(env, problems, name, fallback, min, max);
  const raw = env.SECRET_SCANNING_ENABLED?.trim();
  if (raw && raw !== 'true' && raw !== 'false') problems.push(`SECRET_SCANNING_ENABLED must be true or false (got "${raw}")`);
  const keysUrl = env.SECRET_SCANNING_KEYS_URL?.trim() || GITHUB_SECRET_SCANNING_KEYS_URL;
  try {
    if (!/^https?:$/.test(new URL(keysUrl).protocol)) throw new Error('scheme');
  } catch {
    problems.push(`SECRET_SCANNING_KEYS_URL must be an http(s) URL (got "${keysUrl}")`);
  }
  if (env.NODE_ENV === 'production' && keysUrl.startsWith('http:')) problems.push('SECRET_SCANNING_KEYS_URL must use https in production');
  return {
    enabled: raw === 'true',
    keysUrl,
    keyRefreshSeconds: num('SECRET_SCANNING_KEY_REFRESH_SECONDS', 60, 0, 86400),
    maxBodyBytes: num('SECRET_SCANNING_MAX_BODY_BYTES', 1024 * 1024, 1024, 16 * 1024 * 1024),
    maxTokens: num('SECRET_SCANNING_MAX_TOKENS', 5000, 1, 100000),
    replayHours: num('SECRET_SCANNING_REPLAY_HOURS', 24, 1, 24 * 30),
    reportsPerHour: num('LEAK_REPORTS_PER_HOUR', 10, 1, 100000),
  };
}
