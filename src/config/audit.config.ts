import { resolve } from 'node:path';
import { wholeNumber } from './env-values.js';
import { devKeyFile, keyFrom } from './keys.config.js';

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

export function auditConfig(env: NodeJS.ProcessEnv, prod: boolean, nodeEnv: string, projectRoot: string, masterKey: Buffer, problems: string[]): AuditConfig {
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
