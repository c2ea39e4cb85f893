import type { Environment, SecretState } from '../generated/prisma/enums.js';

/** Who told us: GitHub's secret scanning (signed alert), anyone through the public form, or staff. */
export type LeakReporter = 'github' | 'partner_form' | 'staff';

/** One presented secret and where it was seen. The token lives only for the request; it is never stored. */
export interface LeakSighting {
  token: string;
  url?: string | null;
  source?: string | null;
}

export interface LeakVerdict {
  /** It is (or was) one of our secrets, whatever its state. */
  ours: boolean;
  /** What this report did: revoked it now, found it no longer working, or nothing (a replayed alert, or not ours). */
  outcome: 'revoked' | 'already_inactive' | null;
  credentialId: string | null;
  secretId: string | null;
  /** The emergency rotation that replaces the secret, when one was needed. */
  rotationId: string | null;
}

export interface LeakReportRow {
  id: string;
  credentialId: string;
  clientId: string;
  environment: Environment;
  partnerName: string;
  apiName: string;
  secretId: string;
  secretHint: string;
  fingerprint: string;
  reporter: LeakReporter;
  reportedById: string | null;
  reportedByName: string | null;
  source: string | null;
  url: string | null;
  secretStateBefore: SecretState;
  outcome: 'revoked' | 'already_inactive';
  rotationId: string | null;
  rotationState: string | null;
  reportedAt: Date;
}

/** A leak whose emergency rotation has not completed yet: someone has to approve or finish it. */
export interface LeakIncident {
  reportId: string;
  credentialId: string;
  clientId: string;
  partnerName: string;
  rotationId: string;
  rotationState: string;
  reportedAt: Date;
}
