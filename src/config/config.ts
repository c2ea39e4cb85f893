import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Keyring } from '../common/keyring.js';
import { tokenExplainConfig, type TokenExplainConfig } from './token-explain.config.js';
import { lookupConfig, type LookupConfig } from './lookup-config.js';
import { trustProxyFrom, type TrustProxy } from './trust-proxy.js';
import { wholeNumber } from './env-values.js';
import { secretScanningConfig, type SecretScanningConfig } from './secret-scanning.config.js';

export type NodeEnv = 'development' | 'test' | 'production';

export interface AppConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  /** The address partners and staff reach the service at; issuer URLs and email links derive from it. */
  publicBaseUrl: string;
  /** Absent outside production: the service starts an embedded PostgreSQL in `embeddedPgDir`. */
  databaseUrl?: string;
  /** A direct connection for the credential cache's LISTEN (DATABASE_LISTENER_URL), when DATABASE_URL goes through a transaction-pooling proxy; defaults to DATABASE_URL. */
  databaseListenerUrl?: string;
  embeddedPgDir: string;
  embeddedPgPort: number;
  logLevel: string;
  /** HMAC-SHA-256 key for client secrets and other high-entropy tokens kept as keyed hashes. */
  secretHashKey: Buffer;
  /** Earlier hash keys (SECRET_HASH_KEY_PREVIOUS): stored hashes made with them still match until re-hashed. */
  secretHashKeysPrevious: Buffer[];
  /** The current master key's bytes (MASTER_KEY); seal and open through `masterKeys`. */
  masterKey: Buffer;
  /** Seals data at rest the service must read back (signing keys, TOTP seeds, queued payloads); opens with earlier keys too. */
  masterKeys: Keyring;
  /** Bearer token /metrics asks for; unset means /metrics is open (refused in production). */
  metricsToken?: string;
  /** Whether `Secure` is set on cookies; off only for plain-http local development. */
  secureCookies: boolean;
  /** Whose X-Forwarded-For to believe for the client IP (TRUST_PROXY): a hop count or the proxies' addresses. */
  trustProxy: TrustProxy;
  // ---- credentials and the OAuth token service (owner: credentials)
  credentials: CredentialsConfig;
  tokenExplain: TokenExplainConfig;
  // ---- onboarding requests and the public intake page (owner: onboarding)
  onboarding: OnboardingConfig;
  // ---- notifications and delivery (owner: delivery)
  /** `smtp://user:pass@host:port`; unset means email cannot be sent (it stays queued) unless the dev outbox is on. */
  smtpUrl?: string;
  mailFrom: string;
  twilio: { accountSid?: string; authToken?: string; from?: string; apiBaseUrl?: string; timeoutMs: number };
  /** Line-type and SIM-swap checks of the contact's number (see lookup-config.ts). */
  lookup: LookupConfig;
  /** Capture mail and SMS in memory and show them at /dev/outbox instead of sending them. Never in production. */
  devOutbox: boolean;
  /** Whether this process runs the notification and delivery job workers (off in tests unless asked). */
  notificationWorkers: boolean;
  deliveryTtlDays: number;
  /** Where alerts for staff go (locked or expired deliveries, undeliverable notifications). */
  staffAlertEmail?: string;
  // ---- audit trail (owner: audit)
  audit: AuditConfig;
  // ---- leaked secrets: GitHub secret scanning and the report form (owner: secret-scanning)
  secretScanning: SecretScanningConfig;
}

export interface AuditConfig {
  /** HMAC key of the audit chain (AUDIT_CHAIN_KEY); the database never holds it. */
  chainKey: Buffer;
  /** Ed25519 private key seed that signs checkpoints (AUDIT_CHECKPOINT_KEY); never in the database. */
  checkpointKey: Buffer;
  /** Where signed checkpoints are written (AUDIT_CHECKPOINT_DIR, default .data/audit-checkpoints). */
  checkpointDir: string;
  /** How often a checkpoint is signed when the chain moved (AUDIT_CHECKPOINT_INTERVAL_SECONDS; 0 = only on demand). */
  checkpointIntervalSeconds: number;
  /** How often rows that missed their after-commit seal are swept up (AUDIT_SEAL_INTERVAL_MS, 1000). */
  sealIntervalMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const PLACEHOLDER = /^(change-?me|changeme|secret|password|placeholder|example|dev|test|x+|0+)$/i;

/**
 * Reads and validates the environment once at boot. Production refuses to start with missing,
 * short or placeholder keys; development generates keys once into the (git-ignored) data folder.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, projectRoot = findProjectRoot()): AppConfig {
  const problems: string[] = [];
  const nodeEnv = (env.NODE_ENV ?? 'development') as NodeEnv;
  if (!['development', 'test', 'production'].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, test or production (got "${nodeEnv}")`);
  }
  const prod = nodeEnv === 'production';

  const port = intFrom(env.PORT, 3000, 'PORT', problems);
  const embeddedPgPort = intFrom(env.EMBEDDED_PG_PORT, 54329, 'EMBEDDED_PG_PORT', problems);
  const host = env.HOST ?? (prod ? '0.0.0.0' : '127.0.0.1');
  const publicBaseUrl = (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    const u = new URL(publicBaseUrl);
    if (prod && u.protocol !== 'https:') problems.push('PUBLIC_BASE_URL must use https in production');
  } catch {
    problems.push(`PUBLIC_BASE_URL is not a URL (got "${publicBaseUrl}")`);
  }

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  // A real database without NODE_ENV is most likely a production deployment that forgot it: development
  // mode would generate keys, seed a demo admin and open the dev outbox. Say which mode, explicitly.
  if (databaseUrl && !env.NODE_ENV)
    problems.push('NODE_ENV is not set while DATABASE_URL is: set NODE_ENV=production (or development, to develop against your own database)');
  if (prod && !databaseUrl) problems.push('DATABASE_URL is required in production (the embedded database is for trying the service)');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgresql:// URL');
  const databaseListenerUrl = env.DATABASE_LISTENER_URL?.trim() || undefined;
  if (databaseListenerUrl && !/^postgres(ql)?:\/\//.test(databaseListenerUrl)) problems.push('DATABASE_LISTENER_URL must be a postgresql:// URL');

  const embeddedPgDir = resolve(projectRoot, env.EMBEDDED_PG_DIR ?? '.data/postgres');
  const devKeys = prod ? undefined : () => devKeyFile(resolve(projectRoot, '.data/dev-keys.json'));
  const secretHashKey = keyFrom('SECRET_HASH_KEY', env, prod, problems, devKeys);
  // AES-256 takes 32 bytes: a longer master key is refused rather than silently cut.
  const masterKey = keyFrom('MASTER_KEY', env, prod, problems, devKeys, 32);
  const masterKeysPrevious = previousKeys('MASTER_KEY_PREVIOUS', env, problems, 'exactly');
  const secretHashKeysPrevious = previousKeys('SECRET_HASH_KEY_PREVIOUS', env, problems, 'at least');

  const metricsToken = env.METRICS_TOKEN || undefined;
  if (prod && !metricsToken) problems.push('METRICS_TOKEN is required in production (it guards /metrics)');

  const devOutbox = env.DEV_OUTBOX ? env.DEV_OUTBOX === 'true' : nodeEnv === 'development';
  if (prod && devOutbox) problems.push('DEV_OUTBOX cannot be enabled in production (it shows one-time links and codes on a page)');
  const smtpUrl = env.SMTP_URL?.trim() || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must be an smtp:// or smtps:// URL');
  const twilioApiBaseUrl = env.TWILIO_API_BASE_URL?.trim().replace(/\/+$/, '') || undefined;
  if (twilioApiBaseUrl && !/^https?:\/\//.test(twilioApiBaseUrl)) problems.push('TWILIO_API_BASE_URL must be an http(s) URL');
  const deliveryTtlDays = wholeNumber(env, problems, 'DELIVERY_TTL_DAYS', 7, 1, 30);
  if (prod) {
    // Without these, links and codes would sit in the queue and no partner could ever retrieve a secret.
    if (!smtpUrl) problems.push('SMTP_URL is required in production (delivery links and notices go by email)');
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const) {
      if (!env[name]) problems.push(`${name} is required in production (delivery codes go by SMS)`);
    }
    if (!env.STAFF_ALERT_EMAIL) problems.push('STAFF_ALERT_EMAIL is required in production (locked deliveries and failed messages alert it)');
  }
  const twilioTimeoutMs = wholeNumber(env, problems, 'TWILIO_TIMEOUT_MS', 15000, 100, 600000);

  const lookup = lookupConfig(env, problems, Boolean(env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN), twilioApiBaseUrl);
  const trustProxy = trustProxyFrom(env.TRUST_PROXY, problems);
  const credentials = credentialsConfig(env, problems);
  const onboarding = onboardingConfig(env, problems);
  const audit = auditConfig(env, prod, nodeEnv, projectRoot, masterKey, problems);
  const secretScanning = secretScanningConfig(env, problems);

  if (problems.length) throw new ConfigError(problems);
  return {
    nodeEnv,
    host,
    port,
    publicBaseUrl,
    databaseUrl,
    databaseListenerUrl,
    embeddedPgDir,
    embeddedPgPort,
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    secretHashKey,
    secretHashKeysPrevious,
    masterKey,
    masterKeys: new Keyring(masterKey, masterKeysPrevious),
    metricsToken,
    secureCookies: env.SECURE_COOKIES ? env.SECURE_COOKIES === 'true' : publicBaseUrl.startsWith('https:'),
    trustProxy,
    credentials,
    tokenExplain: tokenExplainConfig(env, problems),
    onboarding,
    smtpUrl,
    mailFrom: env.MAIL_FROM ?? 'API credentials <no-reply@localhost>',
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID || undefined,
      authToken: env.TWILIO_AUTH_TOKEN || undefined,
      from: env.TWILIO_FROM || undefined,
      apiBaseUrl: twilioApiBaseUrl,
      timeoutMs: twilioTimeoutMs,
    },
    lookup,
    devOutbox,
    notificationWorkers: env.NOTIFICATION_WORKERS ? env.NOTIFICATION_WORKERS === 'true' : nodeEnv !== 'test',
    deliveryTtlDays,
    staffAlertEmail: env.STAFF_ALERT_EMAIL || undefined,
    audit,
    secretScanning,
  };
}

function auditConfig(env: NodeJS.ProcessEnv, prod: boolean, nodeEnv: NodeEnv, projectRoot: string, masterKey: Buffer, problems: string[]): AuditConfig {
  const devKeys = prod ? undefined : () => devKeyFile(resolve(projectRoot, '.data/dev-audit-keys.json'), ['AUDIT_CHAIN_KEY', 'AUDIT_CHECKPOINT_KEY']);
  const chainKey = keyFrom('AUDIT_CHAIN_KEY', env, prod, problems, devKeys);
  const checkpointKey = keyFrom('AUDIT_CHECKPOINT_KEY', env, prod, problems, devKeys, 32);
  // Separate keys, so that what opens sealed data cannot also rewrite the audit trail or forge its checkpoints.
  if (masterKey.length && (chainKey.equals(masterKey) || checkpointKey.equals(masterKey) || (chainKey.length && chainKey.equals(checkpointKey)))) {
    problems.push('AUDIT_CHAIN_KEY, AUDIT_CHECKPOINT_KEY and MASTER_KEY must be three different keys');
  }
  return {
    chainKey,
    checkpointKey,
    checkpointDir: resolve(projectRoot, env.AUDIT_CHECKPOINT_DIR || '.data/audit-checkpoints'),
    checkpointIntervalSeconds: wholeNumber(env, problems, 'AUDIT_CHECKPOINT_INTERVAL_SECONDS', nodeEnv === 'test' ? 0 : 300, 0, 86400),
    sealIntervalMs: wholeNumber(env, problems, 'AUDIT_SEAL_INTERVAL_MS', 1000, 50, 600000),
  };
}

export interface OnboardingConfig {
  /** An approval lapses if no credential was issued within this many days (APPROVAL_TTL_DAYS, 14). */
  approvalTtlDays: number;
  /** Intake submissions accepted per client IP per hour (INTAKE_RATE_LIMIT_PER_HOUR, 10). */
  intakeRatePerHour: number;
  /** A form sent back faster than this after it was served is treated as a bot (INTAKE_MIN_FILL_SECONDS, 3). */
  intakeMinFillSeconds: number;
  /** Applications accepted per recipient email address per day (INTAKE_PER_EMAIL_PER_DAY, 3). */
  intakePerEmailPerDay: number;
  /** Applications accepted per registration number (and country) per day (INTAKE_PER_REGISTRATION_PER_DAY, 5). */
  intakePerRegistrationPerDay: number;
  /** Reviewers get at most one digest of newly waiting items this often (REVIEWER_DIGEST_MINUTES, 15; 1-60). */
  reviewerDigestMinutes: number;
}

function onboardingConfig(env: NodeJS.ProcessEnv, problems: string[]): OnboardingConfig {
  const num = (name: string, fallback: number, min: number, max: number) => wholeNumber(env, problems, name, fallback, min, max);
  return {
    approvalTtlDays: num('APPROVAL_TTL_DAYS', 14, 1, 365),
    intakeRatePerHour: num('INTAKE_RATE_LIMIT_PER_HOUR', 10, 1, 100000),
    intakeMinFillSeconds: num('INTAKE_MIN_FILL_SECONDS', 3, 0, 600),
    intakePerEmailPerDay: num('INTAKE_PER_EMAIL_PER_DAY', 3, 1, 100000),
    intakePerRegistrationPerDay: num('INTAKE_PER_REGISTRATION_PER_DAY', 5, 1, 100000),
    reviewerDigestMinutes: num('REVIEWER_DIGEST_MINUTES', 15, 1, 60),
  };
}

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

function credentialsConfig(env: NodeJS.ProcessEnv, problems: string[]): CredentialsConfig {
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

function intFrom(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) problems.push(`${name} must be a port number (got "${raw}")`);
  return n;
}

function keyFrom(
  name: 'SECRET_HASH_KEY' | 'MASTER_KEY' | 'AUDIT_CHAIN_KEY' | 'AUDIT_CHECKPOINT_KEY',
  env: NodeJS.ProcessEnv,
  prod: boolean,
  problems: string[],
  devKeys?: () => Record<string, string>,
  exactLength?: number,
): Buffer {
  const raw = env[name];
  if (!raw) {
    if (prod || !devKeys) {
      problems.push(`${name} is required in production: 32 random bytes, base64 (openssl rand -base64 32)`);
      return Buffer.alloc(0);
    }
    return Buffer.from(devKeys()[name], 'base64');
  }
  if (PLACEHOLDER.test(raw)) {
    problems.push(`${name} is a placeholder value; generate one with: openssl rand -base64 32`);
    return Buffer.alloc(0);
  }
  const key = Buffer.from(raw, 'base64');
  if (exactLength !== undefined && key.length !== exactLength)
    problems.push(`${name} must decode to exactly ${exactLength} bytes of base64 (got ${key.length})`);
  else if (key.length < 32) problems.push(`${name} must decode to at least 32 bytes of base64 (got ${key.length})`);
  return key;
}

/** Earlier keys, comma-separated base64, kept so values made with them still read. */
function previousKeys(
  name: 'MASTER_KEY_PREVIOUS' | 'SECRET_HASH_KEY_PREVIOUS',
  env: NodeJS.ProcessEnv,
  problems: string[],
  size: 'exactly' | 'at least',
): Buffer[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  const keys: Buffer[] = [];
  for (const [i, part] of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .entries()) {
    const key = Buffer.from(part, 'base64');
    if (size === 'exactly' ? key.length !== 32 : key.length < 32)
      problems.push(`${name}: key ${i + 1} must decode to ${size} 32 bytes of base64 (got ${key.length})`);
    else keys.push(key);
  }
  return keys;
}

/**
 * Development keys, generated once. The file is created atomically (link of a complete temporary file), so
 * parallel processes starting on a fresh folder all end up with the same keys.
 */
function devKeyFile(path: string, names: string[] = ['SECRET_HASH_KEY', 'MASTER_KEY']): Record<string, string> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  const keys = Object.fromEntries(names.map((n) => [n, randomBytes(32).toString('base64')]));
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
}

export function findProjectRoot(from = dirname(new URL(import.meta.url).pathname)): string {
  let dir = from;
  for (;;) {
    if (existsSync(resolve(dir, 'prisma/migrations')) && existsSync(resolve(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('project root (with prisma/migrations) not found above ' + from);
    dir = up;
  }
}
