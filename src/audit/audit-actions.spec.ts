import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_CATEGORIES, describeTransition } from './audit-actions.js';

const SRC = resolve(import.meta.dirname, '..');
const AREAS = ['onboarding', 'credential', 'delivery', 'staff', 'partner', 'technical_contact', 'oauth', 'keys', 'audit', 'notification', 'catalogue'];
/**
 * Strings shaped like action codes that are not actions: a form field path and a JSON column's label. A new
 * look-alike fails the test until listed here, which is cheaper than an action the trail cannot name.
 */
const NOT_ACTIONS = new Set(['partner.country', 'delivery.display']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'generated') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && name !== 'audit-actions.ts' ? [path] : [];
  });
}

/** Every `action: '...'` and every quoted `<area>.<what>` string (action tables, helper arguments). */
function actionCodesInSource(): Set<string> {
  const codes = new Set<string>();
  const quoted = new RegExp(`'((?:${AREAS.join('|')})\\.[a-z_]+)'`, 'g');
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/action: '([a-z_]+\.[a-z_.]+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(quoted)) if (!NOT_ACTIONS.has(m[1])) codes.add(m[1]);
  }
  return codes;
}

describe('audit action descriptions', () => {
  it('describes every action code the service writes', () => {
    const found = [...actionCodesInSource()];
    expect(found.length).toBeGreaterThan(40);
    expect(found.filter((c) => !AUDIT_ACTIONS[c])).toEqual([]);
  });

  it('puts every action in a known category', () => {
    for (const a of Object.values(AUDIT_ACTIONS)) expect(Object.keys(AUDIT_CATEGORIES)).toContain(a.category);
  });

  it('says state changes in words', () => {
    expect(describeTransition({ from: 'in_review', to: 'approved' })).toBe('In review → Approved');
    expect(describeTransition({ from: 'in_review', to: 'in_review' })).toBe('Stayed In review');
    expect(describeTransition({})).toBeNull();
  });
});
