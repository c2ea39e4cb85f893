import { ApiProperty } from '@nestjs/swagger';
import type { RotationRow } from './rotations.repository.js';

const ROTATION_STATES = ['awaiting_confirmation', 'awaiting_approval', 'delivering', 'overlap', 'completed', 'cancelled'] as const;
const NULLABLE_ID = { type: String, format: 'uuid', nullable: true } as const;

/** A rotation as the API shows it: never the row itself (which holds the confirmation link's hash). */
export class RotationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ enum: ROTATION_STATES }) state!: RotationRow['state'];
  @ApiProperty({ enum: ['staff', 'partner_contact', 'system'] }) requestedByType!: RotationRow['requestedByType'];
  @ApiProperty({ ...NULLABLE_ID, description: 'Staff id, or the technical contact once the partner confirmed' }) requestedById!: string | null;
  @ApiProperty(NULLABLE_ID) approvedById!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) approvedAt!: string | null;
  @ApiProperty({ minimum: 0, maximum: 90 }) overlapDays!: number;
  @ApiProperty(NULLABLE_ID) oldSecretId!: string | null;
  @ApiProperty(NULLABLE_ID) newSecretId!: string | null;
  @ApiProperty({ ...NULLABLE_ID, description: 'Who asked to end the overlap before the old secret was quiet; a different reviewer may then end it' })
  earlyEndRequestedById!: string | null;
  @ApiProperty({ enum: ['routine', 'leak'], description: "'leak': an emergency rotation opened because a secret leaked (no overlap)" })
  origin!: RotationRow['origin'];
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;

  static of(r: RotationRow): RotationView {
    return {
      id: r.id,
      credentialId: r.credentialId,
      state: r.state,
      requestedByType: r.requestedByType,
      requestedById: r.requestedById,
      approvedById: r.approvedById,
      approvedAt: r.approvedAt?.toISOString() ?? null,
      overlapDays: r.overlapDays,
      oldSecretId: r.oldSecretId,
      newSecretId: r.newSecretId,
      earlyEndRequestedById: r.earlyEndRequestedById,
      origin: r.origin,
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
  @ApiProperty({ type: String, format: 'date-time' }) requestedAt!: string;
}
