import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Keyring } from '../common/keyring.js';
import { tokenExplainConfig, type TokenExplainConfig } from './token-explain.config.js';
import { lookupConfig, type LookupConfig } from './lookup-config.js';
import { trustProxyFrom, type TrustProxy } from './trust-proxy.js';
import { wholeNumber } from './env-values.js';
import { secretScanningConfig, type SecretScanningConfig } from './secret-scanning.config.js';
import { auditConfig, type AuditConfig } from './audit.config.js';
import { credentialsConfig, type CredentialsConfig } from './credentials.config.js';
import { devKeyFile, keyFrom, previousKeys } from './keys.config.js';
import { onboardingConfig, type OnboardingConfig } from './onboarding.config.js';

export type { AuditConfig, CredentialsConfig, OnboardingConfig };

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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

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

function intFrom(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) problems.push(`${name} must be a port number (got "${raw}")`);
  return n;
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
