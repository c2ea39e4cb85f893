import type { CredentialState, Environment, SecretState } from '../generated/prisma/enums.js';

/** The read model the token service authenticates against (cached per client_id, invalidated by NOTIFY). */
export interface ClientRecord {
  credentialId: string;
  clientId: string;
  environment: Environment;
  state: CredentialState;
  partnerId: string;
  apiKey: string;
  apiName: string;
  audience: string;
  baseUrl: string;
  revokedAt: Date | null;
  /** Scopes this client may ask for: the API's key. */
  scopes: string[];
  secrets: ClientSecretRecord[];
}

export interface ClientSecretRecord {
  id: string;
  hash: string;
  state: SecretState;
  activatedAt: Date | null;
  expiresAt: Date;
  retiresAt: Date | null;
  endedAt: Date | null;
}

export interface CatalogueEntry {
  apiEnvironmentId: string;
  apiId: string;
  apiKey: string;
  apiName: string;
  environment: Environment;
  baseUrl: string;
  audience: string;
  /** The API's documentation for developers; shown to partners with their credentials. */
  docsUrl: string | null;
  updatedAt: Date;
}

export interface CredentialListItem {
  id: string;
  clientId: string;
  environment: Environment;
  state: CredentialState;
  apiName: string;
  apiKey: string;
  partnerId: string;
  partnerName: string;
  createdAt: Date;
  activatedAt: Date | null;
  revokedAt: Date | null;
}

export interface CredentialFilter {
  partnerId?: string;
  environment?: Environment;
  state?: CredentialState;
  apiKey?: string;
  q?: string;
  /** By issue date: newest first (default) or oldest first. */
  sort?: 'newest' | 'oldest';
  limit: number;
}

export interface SecretView {
  id: string;
  hint: string;
  state: SecretState;
  deliveryId: string | null;
  createdAt: Date;
  activatedAt: Date | null;
  expiresAt: Date;
  retiresAt: Date | null;
  endedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface CredentialDetail extends CredentialListItem {
  apiEnvironmentId: string;
  baseUrl: string;
  audience: string;
  contact: { id: string; name: string; email: string; mobile: string; language: 'nl' | 'en' };
  onboardingRequestId: string | null;
  revokeReason: string | null;
  secrets: SecretView[];
}
