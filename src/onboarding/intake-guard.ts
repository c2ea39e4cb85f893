import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { InvalidInputError, RateLimitedError } from '../common/domain-error.js';
import { hmacSha256Hex } from '../common/crypto.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { normaliseRegistrationNumber } from '../partners/partner.validation.js';
import type { Tx } from '../prisma/prisma.service.js';
import { OnboardingRepository } from './onboarding.repository.js';
import type { SubmitInput } from './onboarding.types.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * What keeps the public intake from being a mail cannon: counters per client IP (per hour), per recipient
 * address and per registration number (per day), all in PostgreSQL so they hold across instances, and the
 * signed form time used once.
 */
@Injectable()
export class IntakeGuard {
  constructor(
    private readonly repo: OnboardingRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Counts one submission for this client IP; over the hourly limit it refuses with 429. */
  async countIp(clientIp: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
    const count = await this.repo.hitRateLimit(this.bucket(`intake-ip:${clientIp ?? 'unknown'}`), windowStart);
    if (count > this.config.onboarding.intakeRatePerHour) {
      throw new RateLimitedError(
        'intake/rate_limited',
        'Too many applications from your network in the last hour. Please try again later.',
        (windowStart.getTime() + HOUR_MS - now) / 1000,
      );
    }
  }

  /**
   * Inside the submission's transaction: the form time is marked used (one statement; a replay finds it
   * taken) and the per-address and per-registration counters move. A refusal rolls all of it back.
   */
  async admit(tx: Tx, input: SubmitInput, form: { token: string; issuedAtMs: number }): Promise<void> {
    const now = this.clock.now();
    const used = await this.repo.useFormToken(tx, this.bucket(`intake-form:${form.token}`), new Date(form.issuedAtMs + DAY_MS), now);
    if (!used)
      throw new InvalidInputError(
        'intake/form_already_sent',
        'This form was already sent. To send another application, start again from the application page.',
      );
    const windowStart = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
    const retryAfter = (windowStart.getTime() + DAY_MS - now.getTime()) / 1000;
    const emailCount = await this.repo.hitRateLimit(this.bucket(`intake-email:${mailbox(input.contact.email)}`), windowStart, tx);
    if (emailCount > this.config.onboarding.intakePerEmailPerDay) {
      throw new RateLimitedError('intake/email_rate_limited', 'Too many applications for this email address today. Please try again tomorrow.', retryAfter);
    }
    const registration = `${input.partner.country.trim().toUpperCase()}:${normaliseRegistrationNumber(input.partner.registrationNumber)}`;
    const registrationCount = await this.repo.hitRateLimit(this.bucket(`intake-registration:${registration}`), windowStart, tx);
    if (registrationCount > this.config.onboarding.intakePerRegistrationPerDay) {
      throw new RateLimitedError(
        'intake/registration_rate_limited',
        'Too many applications for this registration number today. Please try again tomorrow.',
        retryAfter,
      );
    }
  }

  /** Counters are keyed by an HMAC: no address, number or IP is stored in the clear. */
  private bucket(key: string): string {
    return hmacSha256Hex(this.config.secretHashKey, key);
  }
}

/** One mailbox however it is spelled: case and a `+tag` do not make another recipient. */
function mailbox(email: string): string {
  const trimmed = email.trim().toLowerCase();
  const at = trimmed.lastIndexOf('@');
  if (at < 0) return trimmed;
  return trimmed.slice(0, at).replace(/\+.*$/, '') + trimmed.slice(at);
}
