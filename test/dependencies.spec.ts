import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

describe('import rules (.dependency-cruiser.cjs)', () => {
  it('src/ imports no devDependency, no undeclared package and no test code, and keeps the module boundaries of the house style', () => {
    const run = spawnSync(resolve(ROOT, 'node_modules/.bin/depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(`${run.stdout}${run.stderr}`).toMatch(/no dependency violations found/);
    expect(run.status).toBe(0);
  }, 150_000);
});
