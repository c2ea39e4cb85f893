import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCliConfig } from './cli-config.js';

function projectDir() {
  const d = mkdtempSync(join(tmpdir(), 'cli-cfg-'));
  mkdirSync(join(d, 'prisma/migrations'), { recursive: true });
  return d;
}

describe('loadCliConfig', () => {
  it('runs no queue workers in a CLI command where the service would, unless NOTIFICATION_WORKERS asks for them', () => {
    const dir = projectDir();
    expect(loadCliConfig({ NODE_ENV: 'development' }, dir).notificationWorkers).toBe(false);
    expect(loadCliConfig({ NODE_ENV: 'development', NOTIFICATION_WORKERS: 'true' }, dir).notificationWorkers).toBe(true);
    expect(loadCliConfig({ NODE_ENV: 'development' }, dir).logLevel).toBe('warn');
    expect(loadCliConfig({ NODE_ENV: 'development', LOG_LEVEL: 'debug' }, dir).logLevel).toBe('debug');
  });
});
