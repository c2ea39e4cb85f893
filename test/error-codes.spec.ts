import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../src/common/error-codes.js';
import { withErrorTable } from '../scripts/error-codes-doc.js';

const ROOT = resolve(import.meta.dirname, '..');
const REGISTRY = join('src', 'common', 'error-codes.ts');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && path !== REGISTRY ? [path] : [];
  });
}

describe('error code registry (src/common/error-codes.ts)', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('gives every code the area/what form, a 4xx or 5xx status and a one-line meaning', () => {
    for (const code of codes) {
      const { status, meaning } = ERROR_CODES[code];
      expect(code, code).toMatch(/^[a-z_]+\/[a-z_]+$/);
      expect(status >= 400 && status < 600, `${code} status ${status}`).toBe(true);
      expect(meaning.trim().length > 10 && !meaning.includes('\n'), `${code} meaning`).toBe(true);
    }
  });

  it('holds no code that src/ never uses', () => {
    const text = sources('src')
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    const unused = codes.filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it("matches the README's error table (regenerate with npm run docs:errors)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(withErrorTable(readme) === readme, 'README.md error table differs from the registry: run npm run docs:errors').toBe(true);
  });
});
