import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import twilio from 'twilio';
import type { Logger } from 'pino';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { maskPhone } from './mask.js';
import { lineTypeVerdict, parseLookupAnswer, simSwapVerdict, type LineTypeVerdict, type LookupResult, type SimSwapVerdict } from './phone-lookup.policy.js';
import { BaseUrlRequestClient } from './senders.js';

const FIELDS = 'line_type_intelligence,sim_swap';
const MAX_CACHED = 5000;

/**
 * Twilio Lookup v2 for the technical contact's number: its line type and its last SIM change. Answers are kept
 * in memory for a short while per number (a partner asking for a second code costs no second lookup); failures
 * are not kept. Off (`enabled` false) where no Twilio account is configured.
 */
@Injectable()
export class PhoneLookup implements OnModuleInit {
  private client?: ReturnType<typeof twilio>;
  private readonly cache = new Map<string, { at: number; result: Extract<LookupResult, { ok: true }> }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // The SDK loads its Lookup module on first use: load it now, not inside the first partner's time budget.
    if (this.enabled) void this.twilio().lookups.v2;
  }

  get enabled(): boolean {
    return this.config.lookup.enabled;
  }

  get failOpen(): boolean {
    return this.config.lookup.failOpen;
  }

  /** `fresh` skips the cached answer (the check right before a code is sent). */
  async lookup(e164: string, opts: { fresh?: boolean } = {}): Promise<LookupResult> {
    const now = this.clock.now().getTime();
    const hit = opts.fresh ? undefined : this.cache.get(e164);
    if (hit && now - hit.at < this.config.lookup.cacheSeconds * 1000) return hit.result;
    let result: LookupResult;
    try {
      const answer = await this.twilio().lookups.v2.phoneNumbers(e164).fetch({ fields: FIELDS });
      result = { ok: true, answer: parseLookupAnswer(answer as unknown as Record<string, unknown>) };
    } catch (err) {
      const e = err as { status?: number; code?: unknown };
      const reason =
        typeof e.status === 'number'
          ? `Lookup HTTP ${e.status}`
          : typeof e.code === 'string'
            ? `Lookup unreachable (${e.code})`
            : 'no usable answer from Lookup (timeout or malformed)';
      this.logger.warn({ mobile: maskPhone(e164), reason }, 'phone number lookup failed');
      return { ok: false, reason };
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(e164, { at: now, result });
    return result;
  }

  /** The number's line type against ALLOWED_LINE_TYPES; `unknown` when Lookup is off or gave no answer. */
  async lineType(e164: string): Promise<LineTypeVerdict> {
    if (!this.enabled) return { kind: 'unknown' };
    const r = await this.lookup(e164);
    return r.ok ? lineTypeVerdict(r.answer, this.config.lookup.allowedLineTypes) : { kind: 'unknown' };
  }

  /** Both checks before an SMS code; `lookupFailed` when Lookup gave no usable answer at all. */
  async beforeCode(e164: string, opts: { fresh?: boolean } = {}): Promise<{ lookupFailed: string } | { line: LineTypeVerdict; swap: SimSwapVerdict }> {
    const r = await this.lookup(e164, opts);
    if (!r.ok) return { lookupFailed: r.reason };
    return {
      line: lineTypeVerdict(r.answer, this.config.lookup.allowedLineTypes),
      swap: simSwapVerdict(r.answer, this.config.lookup.simSwapWindowDays, this.clock.now()),
    };
  }

  private twilio(): ReturnType<typeof twilio> {
    if (!this.client) {
      const t = this.config.twilio;
      const base = this.config.lookup.baseUrl;
      const timeout = this.config.lookup.timeoutMs;
      // Retries would stretch the bound: one attempt, then the caller's fail-safe decides.
      const httpClient = base ? new BaseUrlRequestClient(base, { timeout }) : new twilio.RequestClient({ timeout });
      this.client = twilio(t.accountSid, t.authToken, { httpClient });
    }
    return this.client;
  }
}
