import { describe, expect, it } from 'vitest';
import { ageOf } from '../web/age.js';
import { chartIsEmpty, chartSvg, chartTable, escapeXml, formatNumber, niceMax } from './charts.js';

const rects = (svg: string) =>
  [...svg.matchAll(/<rect class="([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({
    cls: m[1],
    x: +m[2],
    y: +m[3],
    w: +m[4],
    h: +m[5],
  }));

describe('chart scales', () => {
  it('rounds the axis up to a nice number', () => {
    expect([0, -3, NaN, 0.3, 1, 3, 7, 12, 26, 99, 101, 2_400_000].map(niceMax)).toEqual([1, 1, 1, 0.5, 1, 5, 10, 20, 50, 100, 200, 2_500_000]);
  });

  it('writes large numbers short', () => {
    expect([0, 950, 12_345, 1_234_567, 7_000_000_000].map(formatNumber)).toEqual(['0', '950', '12.3k', '1.2M', '7G']);
  });

  it('draws bar heights in proportion, the tallest reaching the nice maximum', () => {
    const svg = chartSvg({ kind: 'bars', categories: ['a', 'b', 'c'], values: [10, 20, null], unit: 'hours' }, 'l');
    const r = rects(svg);
    expect(r).toHaveLength(2);
    expect(r[1].h).toBeCloseTo(r[0].h * 2, 0);
    // 20 is the axis maximum: the bar spans the whole plot (260 - 28 top - 40 bottom).
    expect(r[1].h).toBeCloseTo(192, 0);
  });

  it('stacks series on each other', () => {
    const svg = chartSvg(
      {
        kind: 'stacked-bars',
        categories: ['w1'],
        series: [
          { name: 'A', cssClass: 'chart-s1', values: [3] },
          { name: 'B', cssClass: 'chart-s2', values: [2] },
        ],
        unit: 'requests',
      },
      'l',
    );
    const [a, b] = rects(svg);
    expect(a.cls).toBe('chart-s1');
    expect(b.y + b.h).toBeCloseTo(a.y, 0);
    // Counts: the axis runs to 5 in whole steps, so 5 fills the plot.
    expect(a.h + b.h).toBeCloseTo(192, 0);
    expect([...svg.matchAll(/class="chart-tick"[^>]*>([^<]+)</g)].map((m) => m[1]).slice(0, 6)).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});

describe('chart edge cases', () => {
  it('draws an empty chart without bars or NaN and says it is empty', () => {
    const d = { kind: 'stacked-bars' as const, categories: [], series: [], unit: 'tokens' };
    const svg = chartSvg(d, 'l');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(rects(svg)).toHaveLength(0);
    expect(chartIsEmpty(d)).toBe(true);
    expect(chartIsEmpty({ kind: 'timeline', start: new Date(), days: 90, events: [] })).toBe(true);
  });

  it('draws one point', () => {
    const svg = chartSvg({ kind: 'bars', categories: ['only'], values: [1], unit: 'hours' }, 'l');
    expect(rects(svg)).toHaveLength(1);
    expect(svg).not.toMatch(/NaN/);
  });

  it('handles large numbers without overflowing the plot', () => {
    const svg = chartSvg({ kind: 'bars', categories: ['a', 'b'], values: [9_999_999_999, 1], unit: 'tokens' }, 'l');
    for (const r of rects(svg)) expect(r.y).toBeGreaterThanOrEqual(28);
    expect(svg).toContain('>10G<');
  });

  it('escapes labels and ids, and uses no inline style', () => {
    const evil = `<script>alert("x")</script>&'`;
    const svg = chartSvg(
      { kind: 'stacked-bars', categories: [evil], series: [{ name: evil, cssClass: 'chart-s1" onclick="x', values: [1] }], unit: evil },
      'id"x',
    );
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('onclick="x');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(svg).not.toMatch(/style=/);
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&#39;');
  });

  it('bins the expiry timeline by week and lists each secret in the table', () => {
    const start = new Date('2026-12-01T00:00:00Z');
    const d = {
      kind: 'timeline' as const,
      start,
      days: 90,
      events: [
        { at: new Date('2026-12-02T00:00:00Z'), label: 'b' },
        { at: new Date('2026-12-03T00:00:00Z'), label: 'a' },
        { at: new Date('2027-02-20T00:00:00Z'), label: 'c' },
      ],
    };
    expect(rects(chartSvg(d, 'l'))).toHaveLength(2);
    expect(chartTable(d).rows.map((r) => r[1])).toEqual(['b', 'a', 'c']);
  });

  it('gives the stacked data as a table with totals', () => {
    const t = chartTable({
      kind: 'stacked-bars',
      categories: ['w1', 'w2'],
      series: [
        { name: 'A', cssClass: 'chart-s1', values: [1, 0] },
        { name: 'B', cssClass: 'chart-s2', values: [2, 5] },
      ],
      unit: 'x',
    });
    expect(t.head).toEqual(['', 'A', 'B', 'Total']);
    expect(t.rows).toEqual([
      ['w1', '1', '2', '3'],
      ['w2', '0', '5', '5'],
    ]);
  });
});

describe('ageOf', () => {
  it('says how long something waited in its largest unit', () => {
    const now = new Date('2026-12-10T12:00:00Z');
    expect(ageOf(new Date('2026-12-07T11:00:00Z'), now)).toBe('3 days');
    expect(ageOf(new Date('2026-12-10T11:00:00Z'), now)).toBe('1 hour');
    expect(ageOf(new Date('2026-12-10T11:58:00Z'), now)).toBe('2 minutes');
    expect(ageOf(new Date('2026-12-10T12:00:00Z'), now)).toBe('less than a minute');
  });
});
