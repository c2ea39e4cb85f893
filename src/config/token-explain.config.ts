import { wholeNumber } from './env-values.js';

/** The per-failure record of token requests and the public token explainer. */
export interface TokenExplainConfig {
  /** Failed token requests recorded one by one, at most this many per minute and instance (TOKEN_FAILURE_RECORDS_PER_MINUTE, 600; 0 turns recording off). */
  failureRecordsPerMinute: number;
  /** How long a failure record is kept (TOKEN_FAILURE_RETENTION_DAYS, 7). */
  failureRetentionDays: number;
  /** Token explanations per client IP per hour, page and API together (TOKEN_EXPLAIN_PER_IP_PER_HOUR, 60). */
  perIpPerHour: number;
}

export function tokenExplainConfig(env: NodeJS.ProcessEnv, problems: string[]): TokenExplainConfig {
  return {
    failureRecordsPerMinute: wholeNumber(env, problems, 'TOKEN_FAILURE_RECORDS_PER_MINUTE', 600, 0, 100000),
    failureRetentionDays: wholeNumber(env, problems, 'TOKEN_FAILURE_RETENTION_DAYS', 7, 1, 90),
    perIpPerHour: wholeNumber(env, problems, 'TOKEN_EXPLAIN_PER_IP_PER_HOUR', 60, 1, 100000),
  };
}
