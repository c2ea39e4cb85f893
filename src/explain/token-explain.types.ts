import type { Environment } from '../generated/prisma/enums.js';

/**
 * Why a token is (not) accepted, in the order they are told: the first that applies is the answer
 * (`reason`); every one that applies is listed (`findings`). `secret_replaced` is advice only: a token
 * carries no trace of the secret it was fetched with, so a replaced secret never refuses a token.
 */
export const EXPLAIN_REASONS = [
  'client_secret',
  'malformed',
  'not_signed_by_us',
  'signature_invalid',
  'key_withdrawn',
  'other_environment',
  'wrong_audience',
  'client_revoked',
  'token_revoked',
  'expired',
  'not_yet_valid',
  'valid',
] as const;
export type ExplainReason = (typeof EXPLAIN_REASONS)[number];
export type ExplainFindingCode = ExplainReason | 'secret_replaced';

export interface ExplainInput {
  token: string;
  /** The API the caller called (catalogue key such as `business`), if they say. */
  api?: string;
  /** The environment the caller called, if they say. */
  environment?: Environment;
}

export interface EnvironmentUrls {
  environment: Environment;
  label: string;
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  apiName: string | null;
  apiBaseUrl: string | null;
}

export interface TokenFacts {
  clientId: string | null;
  apiKey: string | null;
  apiName: string | null;
  environment: Environment;
  audience: string | null;
  issuer: string | null;
  kid: string;
  issuedAt: Date | null;
  notBefore: Date | null;
  expiresAt: Date | null;
}

export interface TokenExplanation {
  reason: ExplainReason;
  valid: boolean;
  summary: string;
  findings: Array<{ code: ExplainFindingCode; message: string }>;
  nextSteps: string[];
  token: TokenFacts | null;
  /** Where to get a token for the environment that was called (or the token's own). */
  urls: EnvironmentUrls | null;
  tokenLifetimeSeconds: number;
}
