import { wholeNumber } from './env-values.js';

export interface OnboardingConfig {
  /** An approval lapses if no credential was issued within this many days (APPROVAL_TTL_DAYS, 14). */
  approvalTtlDays: number;
  /** Intake submissions accepted per client IP per hour (INTAKE_RATE_LIMIT_PER_HOUR, 10). */
  intakeRatePerHour: number;
  /** A form sent back faster than this after it was served is treated as a bot (INTAKE_MIN_FILL_SECONDS, 3). */
  intakeMinFillSeconds: number;
  /** Applications accepted per recipient email address per day (INTAKE_PER_EMAIL_PER_DAY, 3). */
  intakePerEmailPerDay: number;
  /** Applications accepted per registration number (and country) per day (INTAKE_PER_REGISTRATION_PER_DAY, 5). */
  intakePerRegistrationPerDay: number;
  /** Reviewers get at most one digest of newly waiting items this often (REVIEWER_DIGEST_MINUTES, 15; 1-60). */
  reviewerDigestMinutes: number;
}

export function onboardingConfig(env: NodeJS.ProcessEnv, problems: string[]): OnboardingConfig {
  const num = (name: string, fallback: number, min: number, max: number) => wholeNumber(env, problems, name, fallback, min, max);
  return {
    approvalTtlDays: num('APPROVAL_TTL_DAYS', 14, 1, 365),
    intakeRatePerHour: num('INTAKE_RATE_LIMIT_PER_HOUR', 10, 1, 100000),
    intakeMinFillSeconds: num('INTAKE_MIN_FILL_SECONDS', 3, 0, 600),
    intakePerEmailPerDay: num('INTAKE_PER_EMAIL_PER_DAY', 3, 1, 100000),
    intakePerRegistrationPerDay: num('INTAKE_PER_REGISTRATION_PER_DAY', 5, 1, 100000),
    reviewerDigestMinutes: num('REVIEWER_DIGEST_MINUTES', 15, 1, 60),
  };
}
