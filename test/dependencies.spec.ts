import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = resolve(import.meta.dirname, 'fixtures/boundaries');

function depcruise(cwd: string) {
  const run = spawnSync(resolve(ROOT, 'node_modules/.bin/depcruise'), ['src', '--config', resolve(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('import rules (.dependency-cruiser.cjs)', () => {
  it('src/ imports no devDependency, no undeclared package and no test code, and keeps the module boundaries of the house style', () => {
    const run = depcruise(ROOT);
    expect(run.out).toMatch(/no dependency violations found/);
    expect(run.status).toBe(0);
  }, 150_000);

  it('refuses each forbidden import: a leaf or infrastructure importing a feature, delivery importing credentials, a cycle between folders', () => {
    const run = depcruise(FIXTURE);
    expect(run.status).not.toBe(0);
    expect(run.out).toMatch(/audit-is-a-leaf: src\/audit\/leak\.js → src\/staff\/staff\.js/);
    expect(run.out).toMatch(/notifications-is-a-leaf: src\/notifications\/leak\.js → src\/web\/page\.js/);
    expect(run.out).toMatch(/infrastructure-imports-no-feature: src\/common\/leak\.js → src\/staff\/staff\.js/);
    expect(run.out).toMatch(/delivery-is-generic: src\/delivery\/leak\.js → src\/credentials\/credentials\.js/);
    expect(run.out).toMatch(/no-feature-cycles: src\/partners →\s+src\/onboarding →\s+src\/partners/);
  }, 150_000);
});
