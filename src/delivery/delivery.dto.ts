import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, MaxLength } from 'class-validator';
import { Transform } from 'class-transformer';
import type { BlockedSimSwapDelivery } from './sms-checks.service.js';
import type { CodeRequested, DeliveryOverview, DeliveryState, DeliveryStatus } from './delivery.types.js';

export class DeliveryTokenDto {
  @ApiProperty({ description: 'The link token: the part after `#` in the emailed link (the whole link is accepted too).' })
  @IsString()
  @MaxLength(2000)
  token!: string;
}

export class RevealDeliveryDto extends DeliveryTokenDto {
  @ApiProperty({ description: 'The 8-digit code from the text message.', example: '12345678' })
  @IsString()
  @MaxLength(20)
  code!: string;
}

export class DeliveryStatusQuery {
  @ApiProperty({ example: 'credential' })
  @IsString()
  @MaxLength(100)
  subjectType!: string;

  @ApiProperty({ description: 'One or more subject ids (repeat the parameter or separate with commas).', type: [String] })
  // A query parameter arrives as a string, or as an array of strings when repeated.
  @Transform(({ value }: { value: string | string[] | null | undefined }) =>
    value === undefined || value === null ? value : (Array.isArray(value) ? value : String(value).split(',')).map((v) => String(v).trim()).filter(Boolean),
  )
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  subjectId!: string[];
}

export class DeliveryOverviewView {
  @ApiProperty({ enum: ['pending', 'revealed', 'expired', 'locked', 'cancelled'] }) state!: string;
  @ApiProperty() partnerName!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ['acceptance', 'production'] }) environment!: string;
  @ApiProperty() clientId!: string;
  @ApiProperty({ enum: ['issued', 'rotated', 'redelivered'] }) reason!: string;
  @ApiProperty({ example: '+31 •••• ••78' }) maskedMobile!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revealedAt!: string | null;
  @ApiProperty() codesLeft!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Set while a code is usable.' }) codeExpiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When another code may be requested.' }) nextCodeAt!: string | null;
  @ApiProperty({
    description: 'True while codes are held after a recent SIM change: the partner contacts Business Journeys, who verify the person and clear the hold.',
  })
  smsHeld!: boolean;
}

export class CodeRequestedView {
  @ApiProperty({ example: '+31 •••• ••78' }) maskedMobile!: string;
  @ApiProperty({ type: String, format: 'date-time' }) codeExpiresAt!: string;
  @ApiProperty() codesLeft!: number;
  @ApiProperty({ type: String, format: 'date-time' }) nextCodeAt!: string;
}

export class RevealedCredentialView {
  @ApiProperty() clientId!: string;
  @ApiProperty({ description: 'Shown once; store it in your secret store.' }) clientSecret!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ['acceptance', 'production'] }) environment!: string;
  @ApiProperty() issuer!: string;
  @ApiProperty() tokenEndpoint!: string;
  @ApiProperty() baseUrl!: string;
  @ApiProperty({ type: String, format: 'date-time' }) revealedAt!: string;
}

export class DeliveryStatusView {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ example: 'credential_secret' }) subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ enum: ['pending', 'revealed', 'expired', 'locked', 'cancelled'] }) state!: DeliveryState;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revealedAt!: string | null;
  @ApiProperty({ description: 'SMS codes sent for this link so far' }) codesSent!: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Set while SMS codes are held after a recent SIM change (until staff clear it)',
  })
  simSwapHeldSince!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the codes are held' }) simSwapHoldReason!: string | null;
}

export class SimSwapHoldView {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ example: 'credential_secret' }) subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty() partnerName!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ['acceptance', 'production'] }) environment!: string;
  @ApiProperty() clientId!: string;
  @ApiProperty({ description: 'The technical contact, masked' }) recipient!: string;
  @ApiProperty({ type: String, format: 'date-time' }) heldSince!: string;
  @ApiProperty() reason!: string;
}

export class SimSwapHoldsView {
  @ApiProperty({ type: [SimSwapHoldView], description: 'Pending deliveries whose SMS codes are held after a SIM change, oldest first' })
  holds!: SimSwapHoldView[];
}

export function toSimSwapHoldsView(rows: BlockedSimSwapDelivery[]): SimSwapHoldsView {
  return { holds: rows.map(({ detectedAt, ...r }) => ({ ...r, heldSince: detectedAt.toISOString() })) };
}

export class ClearSimSwapDto {
  @ApiProperty({ description: 'How the person was verified (through a channel already known, not the mobile number).', minLength: 5, maxLength: 2000 })
  @IsString()
  @MaxLength(2000)
  reason!: string;
}

export class DeliveriesView {
  @ApiProperty({ type: [DeliveryStatusView], description: 'Newest first' }) deliveries!: DeliveryStatusView[];
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toDeliveryStatusView(d: DeliveryStatus): DeliveryStatusView {
  return {
    deliveryId: d.deliveryId,
    subjectType: d.subjectType,
    subjectId: d.subjectId,
    state: d.state,
    createdAt: d.createdAt.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
    revealedAt: iso(d.revealedAt),
    codesSent: d.codesSent,
    simSwapHeldSince: iso(d.simSwapHold?.detectedAt ?? null),
    simSwapHoldReason: d.simSwapHold?.reason ?? null,
  };
}

export function toDeliveryOverviewView(o: DeliveryOverview): DeliveryOverviewView {
  return {
    state: o.state,
    partnerName: o.partnerName,
    apiName: o.apiName,
    environment: o.environment,
    clientId: o.clientId,
    reason: o.reason,
    maskedMobile: o.maskedMobile,
    expiresAt: o.expiresAt.toISOString(),
    revealedAt: iso(o.revealedAt),
    codesLeft: o.codesLeft,
    codeExpiresAt: iso(o.codeExpiresAt),
    nextCodeAt: iso(o.nextCodeAt),
    smsHeld: o.smsHeld,
  };
}

export function toCodeRequestedView(c: CodeRequested): CodeRequestedView {
  return { maskedMobile: c.maskedMobile, codeExpiresAt: c.codeExpiresAt.toISOString(), codesLeft: c.codesLeft, nextCodeAt: c.nextCodeAt.toISOString() };
}
