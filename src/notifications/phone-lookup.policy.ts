import type { LineType, LookupConfig } from '../config/lookup-config.js';

/** What Lookup said about one number; `null` fields: Lookup answered without that part (unsupported carrier, error). */
export interface LookupAnswer {
  lineType: string | null;
  /** Null when the answer had no usable SIM-swap part. */
  simSwap: { lastSwapAt: Date | null; swappedPeriodMs: number | null; swappedPeriod: string | null; swappedInPeriod: boolean | null } | null;
}

export type LookupResult = { ok: true; answer: LookupAnswer } | { ok: false; reason: string };

export type LineTypeVerdict = { kind: 'allowed'; lineType: string } | { kind: 'refused'; lineType: string } | { kind: 'unknown' };

export type SimSwapVerdict =
  { kind: 'clear' } | { kind: 'swapped'; lastSwapAt: Date | null; swappedPeriod: string | null } | { kind: 'unknown'; reason: string };

export function lineTypeVerdict(answer: LookupAnswer, allowed: LookupConfig['allowedLineTypes']): LineTypeVerdict {
  if (!answer.lineType) return { kind: 'unknown' };
  return (allowed as readonly string[]).includes(answer.lineType)
    ? { kind: 'allowed', lineType: answer.lineType }
    : { kind: 'refused', lineType: answer.lineType };
}

/**
 * A swap within the window holds the code. Twilio gives the swap's date when the carrier tells it, otherwise
 * only whether a swap happened within `swapped_period` (set per Twilio account): a swap "within 30 days" may
 * have been yesterday, so it counts as recent; "none within 24 hours" says nothing about a 7-day window.
 */
export function simSwapVerdict(answer: LookupAnswer, windowDays: number, now: Date): SimSwapVerdict {
  const s = answer.simSwap;
  if (!s) return { kind: 'unknown', reason: 'Lookup gave no SIM-swap information for this number' };
  const windowMs = windowDays * 86_400_000;
  if (s.lastSwapAt) {
    return now.getTime() - s.lastSwapAt.getTime() <= windowMs
      ? { kind: 'swapped', lastSwapAt: s.lastSwapAt, swappedPeriod: s.swappedPeriod }
      : { kind: 'clear' };
  }
  if (s.swappedInPeriod === true) return { kind: 'swapped', lastSwapAt: null, swappedPeriod: s.swappedPeriod };
  if (s.swappedInPeriod === false && s.swappedPeriodMs !== null && s.swappedPeriodMs >= windowMs) return { kind: 'clear' };
  if (s.swappedInPeriod === false)
    return { kind: 'unknown', reason: `Lookup checked a shorter period (${s.swappedPeriod ?? 'none'}) than the SIM-swap window of ${windowDays} days` };
  return { kind: 'unknown', reason: 'Lookup gave no SIM-swap information for this number' };
}

/** ISO 8601 durations as Twilio writes them (PT24H, P7D, P1W, PT30M); null when unreadable. Months count as 30 days. */
export function durationMs(iso: string | null | undefined): number | null {
  if (typeof iso !== 'string') return null;
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso.trim());
  if (!m || iso.trim() === 'P' || iso.trim().endsWith('T')) return null;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  return ((((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000;
}

/** Reads Twilio's answer (snake_case as on the wire, or the SDK's camelCase); throws on a shape it cannot trust. */
export function parseLookupAnswer(body: Record<string, unknown>): LookupAnswer {
  if (!body || typeof body !== 'object') throw new Error('not an object');
  const lti = (body.line_type_intelligence ?? body.lineTypeIntelligence) as Record<string, unknown> | null | undefined;
  if (lti !== null && lti !== undefined && typeof lti !== 'object') throw new Error('line_type_intelligence is not an object');
  const type = lti && typeof lti.type === 'string' && !lti.error_code && !lti.errorCode ? lti.type : null;
  const ss = (body.sim_swap ?? body.simSwap) as Record<string, unknown> | null | undefined;
  if (ss !== null && ss !== undefined && typeof ss !== 'object') throw new Error('sim_swap is not an object');
  const last = ss && !ss.error_code && !ss.errorCode ? ((ss.last_sim_swap ?? ss.lastSimSwap) as Record<string, unknown> | null | undefined) : null;
  let simSwap: LookupAnswer['simSwap'] = null;
  if (last && typeof last === 'object') {
    const rawDate = last.last_sim_swap_date ?? last.lastSimSwapDate;
    const date = rawDate instanceof Date ? rawDate : typeof rawDate === 'string' ? new Date(rawDate) : null;
    if (date && Number.isNaN(date.getTime())) throw new Error('last_sim_swap_date is not a date');
    const period = last.swapped_period ?? last.swappedPeriod;
    const inPeriod = last.swapped_in_period ?? last.swappedInPeriod;
    simSwap = {
      lastSwapAt: date,
      swappedPeriod: typeof period === 'string' ? period : null,
      swappedPeriodMs: typeof period === 'string' ? durationMs(period) : null,
      swappedInPeriod: typeof inPeriod === 'boolean' ? inPeriod : null,
    };
  }
  return { lineType: type, simSwap };
}

export type { LineType };
