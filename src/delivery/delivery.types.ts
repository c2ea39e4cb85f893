// The seam between credentials and delivery. Delivery is generic: it delivers "a secret
// for a subject" to one technical contact by an email link plus an SMS code, and never imports credentials.
// Credentials calls `create` inside the transaction that issues or rotates a secret, and registers a
// reveal handler that activates the secret inside the transaction that consumes the delivery.
import type { Environment, Language } from '../generated/prisma/enums.js';
import type { RequestContext } from '../common/request-context.js';
import type { Tx } from '../prisma/prisma.service.js';

export interface DeliveryRecipient {
  contactId: string;
  name: string;
  email: string;
  /** E.164 */
  mobile: string;
  language: Language;
}

/** What the partner is told about the secret: nothing here is secret. */
export interface DeliveryDisplay {
  partnerName: string;
  clientId: string;
  apiName: string;
  environment: Environment;
  issuer: string;
  tokenEndpoint: string;
  baseUrl: string;
  /** 'issued' for a new credential, 'rotated' for a new secret of an existing one. */
  reason: 'issued' | 'rotated' | 'redelivered';
  /** What a developer needs next (absent on deliveries made before these were shown). */
  developer?: DeveloperInfo;
}

/** The token request a developer makes with the delivered secret: nothing here is secret. */
export type DeveloperInfo = {
  scope: string;
  /** The resource indicator (RFC 8707) and the tokens' `aud`. */
  audience: string;
  tokenTtlSeconds: number;
  metadataUrl: string;
  jwksUrl: string;
  docsUrl: string | null;
  environmentsUrl: string;
};

export interface CreateDeliveryInput {
  subjectType: string;
  subjectId: string;
  recipient: DeliveryRecipient;
  display: DeliveryDisplay;
  /** Defaults to the configured delivery lifetime (7 days). */
  expiresAt?: Date;
}

export interface RevealedDelivery {
  deliveryId: string;
  subjectType: string;
  subjectId: string;
  secret: string;
  display: DeliveryDisplay;
  revealedAt: Date;
  language: Language;
  /** Set by the owner's reveal handler when the new secret replaces one that keeps working until then. */
  previousSecretEndsAt?: Date | null;
}

/** What the subject's owner tells the reveal about its effect (shown on the page and in the notice). */
export interface RevealOutcome {
  previousSecretEndsAt?: Date | null;
}

/**
 * Makes the secret to deliver when the link email is about to be sent (each attempt makes a new one):
 * the owner keeps only its hash and returns the plaintext, which delivery seals under the new link token.
 * Runs inside the arming transaction; throwing (e.g. the subject is no longer pending) sends nothing.
 */
export type SecretIssuer = (tx: Tx, subjectId: string) => Promise<string>;

/**
 * Locks the subject's owner rows (for a credential secret: its credential) FOR UPDATE. Delivery calls it before
 * it locks the delivery row, so every transaction that locks both takes them in one order: owner, then delivery.
 */
export type OwnerLock = (tx: Tx, subjectId: string) => Promise<void>;

/** Runs inside the reveal transaction; throwing aborts the reveal (nothing is consumed). */
export type RevealHandler = (tx: Tx, ctx: RequestContext, revealed: RevealedDelivery) => Promise<RevealOutcome | void>;

export type DeliveryState = 'pending' | 'revealed' | 'expired' | 'locked' | 'cancelled';

export interface DeliveryStatus {
  deliveryId: string;
  subjectType: string;
  subjectId: string;
  state: DeliveryState;
  createdAt: Date;
  expiresAt: Date;
  revealedAt: Date | null;
  codesSent: number;
  /** Set while SMS codes are held after a recent SIM change. */
  simSwapHold?: { detectedAt: Date; reason: string } | null;
}

// ---- added by the delivery implementation (nothing above changed)

export interface CreatedDelivery {
  deliveryId: string;
  expiresAt: Date;
}

/** What the partner's page shows before the reveal: nothing secret. */
export interface DeliveryOverview {
  state: DeliveryState;
  language: Language;
  partnerName: string;
  apiName: string;
  environment: Environment;
  clientId: string;
  reason: DeliveryDisplay['reason'];
  maskedMobile: string;
  expiresAt: Date;
  revealedAt: Date | null;
  codesLeft: number;
  /** Set while a code is usable. */
  codeExpiresAt: Date | null;
  /** When another code may be requested (null: now, or never when none are left). */
  nextCodeAt: Date | null;
  /** Codes are held after a recent SIM change until staff verified the person. */
  smsHeld: boolean;
}

export interface CodeRequested {
  maskedMobile: string;
  codeExpiresAt: Date;
  codesLeft: number;
  nextCodeAt: Date;
}
