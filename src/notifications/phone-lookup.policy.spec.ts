import { describe, expect, it } from 'vitest';
import { durationMs, lineTypeVerdict, parseLookupAnswer, simSwapVerdict } from './phone-lookup.policy.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const DAY = 86_400_000;
const swap = (last: Record<string, unknown> | null) =>
  parseLookupAnswer({ line_type_intelligence: { type: 'mobile', error_code: null }, sim_swap: last ? { last_sim_swap: last, error_code: null } : null });

describe('Lookup answers', () => {
  it('reads ISO 8601 durations as Twilio writes them', () => {
    expect(durationMs('PT24H')).toBe(DAY);
    expect(durationMs('P7D')).toBe(7 * DAY);
    expect(durationMs('P1W')).toBe(7 * DAY);
    expect(durationMs('P')).toBeNull();
    expect(durationMs('24h')).toBeNull();
  });

  it('a swap date decides against the window; without one, swapped_in_period over a long enough period does', () => {
    expect(
      simSwapVerdict(swap({ last_sim_swap_date: new Date(NOW.getTime() - DAY).toISOString(), swapped_period: 'PT48H', swapped_in_period: true }), 7, NOW).kind,
    ).toBe('swapped');
    expect(
      simSwapVerdict(swap({ last_sim_swap_date: new Date(NOW.getTime() - 30 * DAY).toISOString(), swapped_period: 'PT48H', swapped_in_period: false }), 7, NOW)
        .kind,
    ).toBe('clear');
    expect(simSwapVerdict(swap({ last_sim_swap_date: null, swapped_period: 'P30D', swapped_in_period: true }), 7, NOW).kind).toBe('swapped');
    expect(simSwapVerdict(swap({ last_sim_swap_date: null, swapped_period: 'PT168H', swapped_in_period: false }), 7, NOW).kind).toBe('clear');
    // "None in 24 hours" says nothing about the other six days of the window.
    expect(simSwapVerdict(swap({ last_sim_swap_date: null, swapped_period: 'PT24H', swapped_in_period: false }), 7, NOW).kind).toBe('unknown');
    expect(simSwapVerdict(swap(null), 7, NOW).kind).toBe('unknown');
    expect(simSwapVerdict(parseLookupAnswer({ sim_swap: { last_sim_swap: null, error_code: 60620 } }), 7, NOW).kind).toBe('unknown');
  });

  it('line types against the allowed set; an error or a missing part is unknown, not refused', () => {
    expect(lineTypeVerdict(parseLookupAnswer({ line_type_intelligence: { type: 'nonFixedVoip' } }), ['mobile'])).toEqual({
      kind: 'refused',
      lineType: 'nonFixedVoip',
    });
    expect(lineTypeVerdict(parseLookupAnswer({ line_type_intelligence: { type: 'personal' } }), ['mobile', 'personal']).kind).toBe('allowed');
    expect(lineTypeVerdict(parseLookupAnswer({ line_type_intelligence: { type: null, error_code: 60600 } }), ['mobile']).kind).toBe('unknown');
    expect(lineTypeVerdict(parseLookupAnswer({}), ['mobile']).kind).toBe('unknown');
  });

  it('refuses shapes it cannot trust', () => {
    expect(() => parseLookupAnswer({ line_type_intelligence: 'mobile' })).toThrow();
    expect(() => parseLookupAnswer({ sim_swap: { last_sim_swap: { last_sim_swap_date: 'yesterday' } } })).toThrow();
  });
});
