import { environmentName } from '../common/i18n.js';
import { randomBytes } from 'node:crypto';
import type { Environment } from '../generated/prisma/enums.js';

/**
 * Client ids carry their environment in a prefix, so people (and the token endpoint, without a database
 * lookup) see at a glance which issuer a client belongs to. Secrets carry a fixed, scanner-friendly
 * prefix (`cbsk_` = "credential broker secret key") followed by 256 bits of CSPRNG output.
 */
export const ENV_PREFIX: Record<Environment, string> = { acceptance: 'acc', production: 'prd' };
export const ENVIRONMENTS: Environment[] = ['acceptance', 'production'];
export const SECRET_PREFIX = 'cbsk_';

export function newClientId(environment: Environment): string {
  return `${ENV_PREFIX[environment]}_${randomBytes(15).toString('base64url')}`;
}

export function newClientSecret(environment: Environment): string {
  return `${SECRET_PREFIX}${ENV_PREFIX[environment]}_${randomBytes(32).toString('base64url')}`;
}

/** What staff and partners may see of a secret: its prefix and last four characters. */
export function secretHint(secret: string): string {
  const env = secret.slice(SECRET_PREFIX.length, SECRET_PREFIX.length + 4);
  return `${SECRET_PREFIX}${env}…${secret.slice(-4)}`;
}

/** The environment a client id claims by its prefix, or null when it has none of ours. */
export function environmentOfClientId(clientId: string): Environment | null {
  if (clientId.startsWith('acc_')) return 'acceptance';
  if (clientId.startsWith('prd_')) return 'production';
  return null;
}

export const CLIENT_ID_PATTERN = /^(acc|prd)_[A-Za-z0-9_-]{20}$/;

export function environmentLabel(environment: Environment): string {
  return environmentName(environment, 'en');
}
