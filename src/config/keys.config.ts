import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// Key material from the environment: required, long enough and not a placeholder in production; generated once in development.
const PLACEHOLDER = /^(change-?me|changeme|secret|password|placeholder|example|dev|test|x+|0+)$/i;

export function keyFrom(
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
export function previousKeys(
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
export function devKeyFile(path: string, names: string[] = ['SECRET_HASH_KEY', 'MASTER_KEY']): Record<string, string> {
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
