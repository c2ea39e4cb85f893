import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_LABELS, pageLang } from '../../common/i18n.js';
import { PARTNER_TEXT } from './status.text.js';
import { APPLY_ERRORS_NL, APPLY_TEXT } from './apply.text.js';
import { DELIVERY_ERRORS_NL, DELIVERY_TEXT, deliveryErrorText } from './delivery.text.js';
import { ENVIRONMENTS_TEXT } from './environments.text.js';
import { ROTATION_TEXT } from './rotation.text.js';
import { LAYOUT_TEXT } from './layout.text.js';
import { EXPLAIN_TEXT } from './explain.text.js';

/** Every key path of a catalogue, nested objects included. */
function keys(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

const CATALOGUES = { APPLY_TEXT, DELIVERY_TEXT, ROTATION_TEXT, ENVIRONMENTS_TEXT, PARTNER_TEXT, ENVIRONMENT_LABELS, LAYOUT_TEXT, EXPLAIN_TEXT };

describe('page text catalogues', () => {
  it.each(Object.entries(CATALOGUES))('%s has every key in both languages, none empty', (_, catalogue) => {
    expect(keys(catalogue.nl).sort()).toEqual(keys(catalogue.en).sort());
    for (const lang of ['en', 'nl'] as const) {
      for (const path of keys(catalogue[lang])) {
        const text = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], catalogue[lang]);
        expect(typeof text === 'string' && text.trim().length > 0, `${lang}.${path}`).toBe(true);
      }
    }
  });

  it('uses one vocabulary for environments everywhere', () => {
    for (const c of [APPLY_TEXT, DELIVERY_TEXT, ENVIRONMENTS_TEXT, PARTNER_TEXT, EXPLAIN_TEXT]) {
      expect(c.en.env).toEqual({ acceptance: 'Acceptance', production: 'Production' });
      expect(c.nl.env).toEqual({ acceptance: 'Acceptatie', production: 'Productie' });
    }
  });

  it('translates every Dutch error it knows, with the values it names', () => {
    for (const nl of [...Object.values(APPLY_ERRORS_NL), ...Object.values(DELIVERY_ERRORS_NL)]) expect(nl.trim()).not.toBe('');
    expect(deliveryErrorText('nl', 'delivery/wrong_code', 'That code is not correct.', { attemptsLeft: 3 })).toContain('nog 3 keer');
    expect(deliveryErrorText('nl', 'delivery/number_not_mobile', 'No code was sent', { lineType: 'landline' })).toContain('(landline)');
    expect(deliveryErrorText('nl', 'delivery/sim_swap_held', 'For your security')).toContain('simkaart');
    expect(deliveryErrorText('en', 'delivery/wrong_code', 'That code is not correct.', { attemptsLeft: 3 })).toBe('That code is not correct.');
  });

  it('picks a page language from ?lang, then the browser, then English', () => {
    expect(pageLang({ lang: 'nl' }, 'en-GB')).toBe('nl');
    expect(pageLang({ lang: 'fr' }, 'nl-NL,nl;q=0.9')).toBe('nl');
    expect(pageLang({}, 'de-DE,en;q=0.8')).toBe('en');
    expect(pageLang(undefined, undefined)).toBe('en');
  });
});
