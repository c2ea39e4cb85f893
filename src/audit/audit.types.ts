import type { Environment } from '../generated/prisma/enums.js';

export interface AuditEventInput {
  /** `area.verb_past`, e.g. `onboarding.approved`, `credential.revoked`. */
  action: string;
  subjectType: string;
  subjectId?: string | null;
  environment?: Environment | null;
  /** Facts about the change. Never secrets, link tokens, codes or passwords; keep personal data minimal. */
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  subjectType?: string;
  subjectId?: string;
  actorId?: string;
  action?: string;
  /** Any of these actions (a category of them); ignored when `action` is given. */
  actions?: string[];
  actorType?: string;
  correlationId?: string;
  from?: Date;
  to?: Date;
  /** Return events with seq below this (the previous page's `nextBefore`). */
  before?: bigint;
  limit: number;
}

export interface AuditEventView {
  id: string;
  seq: string | null;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  environment: string | null;
  correlationId: string | null;
  clientIp: string | null;
  detail: unknown;
  hash: string | null;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  headSeq: string;
  headHash: string;
  /** The first seq sealed with the keyed MAC (earlier rows carry unkeyed SHA-256 links). */
  keyedFrom: string;
  /** Signed checkpoints compared with the chain; `rejected` lists files that were not valid checkpoints. */
  checkpoints: { given: number; matched: number; rejected: Array<{ file: string; reason: string }> };
  /** Committed rows not sealed yet, and how many of them were committed over STALE_UNSEALED_MINUTES ago. */
  unsealed: { count: number; stale: number };
  /** The first row whose hash or link does not match, when `ok` is false. */
  firstBroken?: { seq: string; id: string; reason: string };
}
