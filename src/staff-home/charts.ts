import type { ChartData } from '../common/home-sources.js';

/**
 * Server-rendered SVG charts. Pure: data in, markup out. Colours come from CSS classes in site.css and
 * positions from SVG presentation attributes, so the strict CSP (no inline styles) holds. Every chart is
 * drawn with a text alternative beside it (see `chartTable`).
 */

const W = 640;
const H = 260;
const PAD = { top: 28, right: 12, bottom: 40, left: 52 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at or above `v`; 1 for empty data. */
export function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Axis tick labels: 1 234 567 stays readable as 1.2M. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return String(Math.round(v * 10) / 10);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

interface Frame {
  plotW: number;
  plotH: number;
  max: number;
  ticks: number;
  y: (v: number) => number;
}

/** Counts get whole-number ticks: at least 0-5, and 4 or 5 steps that divide the maximum evenly. */
function frame(maxValue: number, counts: boolean): Frame {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const max = counts ? niceMax(Math.max(maxValue, 4)) : niceMax(maxValue);
  const ticks = counts && max % 4 !== 0 ? 5 : 4;
  return { plotW, plotH, max, ticks, y: (v) => r1(PAD.top + plotH - (v / max) * plotH) };
}

function open(labelId: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${escapeXml(labelId)}" preserveAspectRatio="xMidYMid meet">`;
}

function axes(f: Frame, categories: string[], unit: string): string {
  const parts: string[] = [];
  for (let i = 0; i <= f.ticks; i++) {
    const v = (f.max * i) / f.ticks;
    const y = f.y(v);
    parts.push(`<line class="chart-grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="chart-tick" x="${PAD.left - 6}" y="${r1(y + 4)}" text-anchor="end">${escapeXml(formatNumber(v))}</text>`);
  }
  const step = Math.max(1, Math.ceil(categories.length / 8));
  const slot = f.plotW / Math.max(1, categories.length);
  categories.forEach((c, i) => {
    if (i % step) return;
    parts.push(`<text class="chart-tick" x="${r1(PAD.left + slot * (i + 0.5))}" y="${H - PAD.bottom + 16}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  parts.push(`<text class="chart-tick" x="4" y="12">${escapeXml(unit)}</text>`);
  return parts.join('');
}

function stackedBars(d: Extract<ChartData, { kind: 'stacked-bars' }>, labelId: string): string {
  const totals = d.categories.map((_, i) => d.series.reduce((sum, s) => sum + Math.max(0, s.values[i] ?? 0), 0));
  const f = frame(Math.max(0, ...totals), true);
  const slot = f.plotW / Math.max(1, d.categories.length);
  const bw = r1(Math.max(1, slot * 0.7));
  const bars: string[] = [];
  d.categories.forEach((c, i) => {
    let base = 0;
    for (const s of d.series) {
      const v = Math.max(0, s.values[i] ?? 0);
      if (!v) continue;
      const top = f.y(base + v);
      bars.push(
        `<rect class="${escapeXml(s.cssClass)}" x="${r1(PAD.left + slot * i + (slot - bw) / 2)}" y="${top}" width="${bw}" height="${r1(f.y(base) - top)}"><title>${escapeXml(`${c} ${s.name}: ${v}`)}</title></rect>`,
      );
      base += v;
    }
  });
  return open(labelId) + axes(f, d.categories, d.unit) + bars.join('') + '</svg>';
}

function bars(d: Extract<ChartData, { kind: 'bars' }>, labelId: string, counts = false): string {
  const f = frame(Math.max(0, ...d.values.map((v) => v ?? 0)), counts);
  const slot = f.plotW / Math.max(1, d.categories.length);
  const bw = r1(Math.max(1, slot * 0.7));
  const out = d.values.map((v, i) => {
    if (v === null || v <= 0) return '';
    const top = f.y(v);
    return `<rect class="chart-s1" x="${r1(PAD.left + slot * i + (slot - bw) / 2)}" y="${top}" width="${bw}" height="${r1(f.y(0) - top)}"><title>${escapeXml(`${d.categories[i]}: ${v} ${d.unit}`)}</title></rect>`;
  });
  return open(labelId) + axes(f, d.categories, d.unit) + out.join('') + '</svg>';
}

function timeline(d: Extract<ChartData, { kind: 'timeline' }>, labelId: string): string {
  // One bar per week of the window: how many secrets expire in it.
  const weeks = Math.max(1, Math.ceil(d.days / 7));
  const counts = Array.from({ length: weeks }, () => 0);
  const startMs = d.start.getTime();
  for (const e of d.events) {
    const i = Math.floor((e.at.getTime() - startMs) / (7 * 86_400_000));
    if (i >= 0 && i < weeks) counts[i]++;
  }
  const categories = counts.map((_, i) => new Date(startMs + i * 7 * 86_400_000).toISOString().slice(5, 10));
  return bars({ kind: 'bars', categories, values: counts, unit: 'secrets' }, labelId, true);
}

export function chartSvg(d: ChartData, labelId: string): string {
  if (d.kind === 'stacked-bars') return stackedBars(d, labelId);
  if (d.kind === 'bars') return bars(d, labelId);
  return timeline(d, labelId);
}

/** The same data as a table (header row, then rows of cells), for the text alternative. Plain strings: the template escapes. */
export function chartTable(d: ChartData): { head: string[]; rows: string[][] } {
  if (d.kind === 'stacked-bars') {
    return {
      head: ['', ...d.series.map((s) => s.name), 'Total'],
      rows: d.categories.map((c, i) => [c, ...d.series.map((s) => String(s.values[i] ?? 0)), String(d.series.reduce((t, s) => t + (s.values[i] ?? 0), 0))]),
    };
  }
  if (d.kind === 'bars') return { head: ['', d.unit], rows: d.categories.map((c, i) => [c, d.values[i] === null ? 'none' : String(d.values[i])]) };
  return {
    head: ['Expires', 'Secret'],
    rows: [...d.events].sort((a, b) => a.at.getTime() - b.at.getTime()).map((e) => [e.at.toISOString().slice(0, 16).replace('T', ' '), e.label]),
  };
}

/** The series of a stacked chart with their CSS classes, for a legend beside it. */
export function chartLegend(d: ChartData): Array<{ name: string; cssClass: string }> {
  return d.kind === 'stacked-bars' ? d.series.map((s) => ({ name: s.name, cssClass: s.cssClass })) : [];
}

/** Whether the chart has anything to draw (an empty chart is replaced by a sentence). */
export function chartIsEmpty(d: ChartData): boolean {
  if (d.kind === 'stacked-bars') return d.series.every((s) => s.values.every((v) => !v));
  if (d.kind === 'bars') return d.values.every((v) => !v);
  return d.events.length === 0;
}
