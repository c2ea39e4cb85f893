import { ApiProperty } from '@nestjs/swagger';
import { DeliveryStatusView, toDeliveryStatusView } from '../delivery/delivery.dto.js';
import type { DeliveryStatus } from '../delivery/delivery.types.js';
import type { CredentialState, Environment, SecretState } from '../generated/prisma/enums.js';
import type { IssuedCredentialView as IssuedCredential } from './credentials.service.js';
import type { RotationRow } from './rotations.repository.js';
import type { CatalogueEntry, CredentialDetail, CredentialListItem } from './credentials.types.js';
import type { OverlapView } from './rotation-overlap.service.js';
import { RotationView } from './rotation.views.js';

// What the JSON API answers about credentials. Each view is built field by field from the service's
// result, so a column added to a table never reaches a client by accident.

const ENVIRONMENTS = ['acceptance', 'production'];
const DATE = { type: String, format: 'date-time' } as const;
const NULLABLE_DATE = { type: String, format: 'date-time', nullable: true } as const;
const NULLABLE_ID = { type: String, format: 'uuid', nullable: true } as const;
const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export class CatalogueEntryView {
  @ApiProperty({ format: 'uuid' }) apiEnvironmentId!: string;
  @ApiProperty({ format: 'uuid' }) apiId!: string;
  @ApiProperty({ example: 'business' }) apiKey!: string;
  @ApiProperty({ example: 'Business API' }) apiName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty() baseUrl!: string;
  @ApiProperty({ description: 'The `aud` of access tokens for this API environment' }) audience!: string;
  @ApiProperty(DATE) updatedAt!: string;
}

export function toCatalogueEntryView(e: CatalogueEntry): CatalogueEntryView {
  return {
    apiEnvironmentId: e.apiEnvironmentId,
    apiId: e.apiId,
    apiKey: e.apiKey,
    apiName: e.apiName,
    environment: e.environment,
    baseUrl: e.baseUrl,
    audience: e.audience,
    updatedAt: e.updatedAt.toISOString(),
  };
}

export class IssuedCredentialView {
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ example: 'acc_Z3x9QkT2mB7rYp1LwH4c' }) clientId!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ format: 'uuid', description: 'The delivery that carries the secret to the technical contact' }) deliveryId!: string;
}

export class IssuedCredentialsView {
  @ApiProperty({ format: 'uuid' }) requestId!: string;
  @ApiProperty({ example: 'OB-7K3M-Q9XA' }) reference!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ type: [IssuedCredentialView] }) credentials!: IssuedCredentialView[];
}

export function toIssuedCredentialsView(r: {
  requestId: string;
  reference: string;
  environment: Environment;
  credentials: IssuedCredential[];
}): IssuedCredentialsView {
  return {
    requestId: r.requestId,
    reference: r.reference,
    environment: r.environment,
    credentials: r.credentials.map((c) => ({
      credentialId: c.credentialId,
      clientId: c.clientId,
      apiName: c.apiName,
      environment: c.environment,
      deliveryId: c.deliveryId,
    })),
  };
}

export class CredentialListItemView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'acc_Z3x9QkT2mB7rYp1LwH4c' }) clientId!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ enum: ['pending_delivery', 'active', 'revoked'] }) state!: CredentialState;
  @ApiProperty() apiName!: string;
  @ApiProperty() apiKey!: string;
  @ApiProperty({ format: 'uuid' }) partnerId!: string;
  @ApiProperty() partnerName!: string;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(NULLABLE_DATE) activatedAt!: string | null;
  @ApiProperty(NULLABLE_DATE) revokedAt!: string | null;
}

export function toCredentialListItemView(c: CredentialListItem): CredentialListItemView {
  return {
    id: c.id,
    clientId: c.clientId,
    environment: c.environment,
    state: c.state,
    apiName: c.apiName,
    apiKey: c.apiKey,
    partnerId: c.partnerId,
    partnerName: c.partnerName,
    createdAt: c.createdAt.toISOString(),
    activatedAt: iso(c.activatedAt),
    revokedAt: iso(c.revokedAt),
  };
}

export class TechnicalContactView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ example: '+31612345678' }) mobile!: string;
  @ApiProperty({ enum: ['nl', 'en'] }) language!: 'nl' | 'en';
}

export class CredentialSecretView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'cbsk_acc_…x4Qz', description: 'Prefix and last characters only' }) hint!: string;
  @ApiProperty({ enum: ['pending_delivery', 'active', 'retired', 'revoked', 'cancelled'] }) state!: SecretState;
  @ApiProperty(NULLABLE_ID) deliveryId!: string | null;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(NULLABLE_DATE) activatedAt!: string | null;
  @ApiProperty(DATE) expiresAt!: string;
  @ApiProperty({ ...NULLABLE_DATE, description: 'End of the overlap after a newer secret was revealed' }) retiresAt!: string | null;
  @ApiProperty(NULLABLE_DATE) endedAt!: string | null;
  @ApiProperty(NULLABLE_DATE) lastUsedAt!: string | null;
}

/** A credential as revoking it or ending its overlap leaves it. */
export class CredentialView extends CredentialListItemView {
  @ApiProperty({ format: 'uuid' }) apiEnvironmentId!: string;
  @ApiProperty() baseUrl!: string;
  @ApiProperty() audience!: string;
  @ApiProperty({ type: TechnicalContactView }) contact!: TechnicalContactView;
  @ApiProperty(NULLABLE_ID) onboardingRequestId!: string | null;
  @ApiProperty({ type: String, nullable: true }) revokeReason!: string | null;
  @ApiProperty({ type: [CredentialSecretView], description: 'Newest first' }) secrets!: CredentialSecretView[];
}

export function toCredentialView(c: CredentialDetail): CredentialView {
  return {
    ...toCredentialListItemView(c),
    apiEnvironmentId: c.apiEnvironmentId,
    baseUrl: c.baseUrl,
    audience: c.audience,
    contact: { id: c.contact.id, name: c.contact.name, email: c.contact.email, mobile: c.contact.mobile, language: c.contact.language },
    onboardingRequestId: c.onboardingRequestId,
    revokeReason: c.revokeReason,
    secrets: c.secrets.map((s) => ({
      id: s.id,
      hint: s.hint,
      state: s.state,
      deliveryId: s.deliveryId,
      createdAt: s.createdAt.toISOString(),
      activatedAt: iso(s.activatedAt),
      expiresAt: s.expiresAt.toISOString(),
      retiresAt: iso(s.retiresAt),
      endedAt: iso(s.endedAt),
      lastUsedAt: iso(s.lastUsedAt),
    })),
  };
}

export class CredentialOverlapView {
  @ApiProperty() inOverlap!: boolean;
  @ApiProperty(NULLABLE_ID) oldSecretId!: string | null;
  @ApiProperty(NULLABLE_ID) newSecretId!: string | null;
  @ApiProperty(NULLABLE_DATE) endsAt!: string | null;
  @ApiProperty(NULLABLE_DATE) oldLastUsedAt!: string | null;
  @ApiProperty(NULLABLE_DATE) newLastUsedAt!: string | null;
  @ApiProperty({ description: 'The partner has used the new secret and not the old one since' }) switched!: boolean;
  @ApiProperty({ description: 'The old secret has been quiet for OVERLAP_QUIET_HOURS after the new one came into use' }) quietEnough!: boolean;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Who asked to end the overlap before it was quiet; a different reviewer may then end it',
  })
  earlyEndRequestedById!: string | null;
}

/** The credential page's data: the credential, its deliveries, the overlap and the rotations (newest first). */
export class CredentialDetailView extends CredentialView {
  @ApiProperty({ type: [DeliveryStatusView] }) deliveries!: DeliveryStatusView[];
  @ApiProperty({ type: CredentialOverlapView }) overlap!: CredentialOverlapView;
  @ApiProperty({ type: [RotationView] }) rotations!: RotationView[];
}

export function toCredentialDetailView(c: CredentialDetail, deliveries: DeliveryStatus[], o: OverlapView, rotations: RotationRow[]): CredentialDetailView {
  return {
    ...toCredentialView(c),
    deliveries: deliveries.map(toDeliveryStatusView),
    // Built field by field by RotationOverlapService.overlapOf.
    overlap: o,
    rotations: rotations.map((r) => RotationView.of(r)),
  };
}

export class RevokedCredentialsView {
  @ApiProperty({ type: [String], description: 'Ids of the credentials this call revoked' }) revoked!: string[];
}

export class RedeliveryView {
  @ApiProperty({ format: 'uuid', description: 'The fresh secret now on its way' }) secretId!: string;
}

export class RotationRequestedView {
  @ApiProperty({ description: 'The same answer whatever the client_id' }) message!: string;
}

export class RotationConfirmedView {
  @ApiProperty({ enum: [true] }) confirmed!: true;
}
