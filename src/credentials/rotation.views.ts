import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { RotationRow } from './credentials.repository.js';

const ROTATION_STATES = ['awaiting_confirmation', 'awaiting_approval', 'delivering', 'overlap', 'completed', 'cancelled'] as const;

/** A rotation as the API shows it: never the row itself (which holds the confirmation link's hash). */
export class RotationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ enum: ROTATION_STATES }) state!: RotationRow['state'];
  @ApiProperty({ enum: ['staff', 'partner_contact', 'system'] }) requestedByType!: RotationRow['requestedByType'];
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) requestedById!: string | null;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) approvedById!: string | null;
  @ApiProperty({ minimum: 0, maximum: 90 }) overlapDays!: number;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'Who asked to end the overlap before it was quiet' }) earlyEndRequestedById!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(r: RotationRow): RotationView {
    return {
      id: r.id,
      credentialId: r.credentialId,
      state: r.state,
      requestedByType: r.requestedByType,
      requestedById: r.requestedById,
      approvedById: r.approvedById,
      overlapDays: r.overlapDays,
      earlyEndRequestedById: r.earlyEndRequestedById,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

/** The first reviewer's request to end an overlap before its quiet period; a different reviewer ends it. */
export class EarlyEndRequestView {
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ format: 'uuid' }) rotationId!: string;
  @ApiProperty({ format: 'uuid' }) requestedById!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
}
