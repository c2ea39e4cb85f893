import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventView as AuditEvent } from './audit.types.js';

export class AuditEventView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Position in the chain. Only sealed rows are listed (sealed right after commit; a row whose seal failed appears once the sweep seals it)',
  })
  seq!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ example: 'staff', description: 'staff, partner_contact, api_client or system' }) actorType!: string;
  @ApiProperty({ type: String, nullable: true }) actorId!: string | null;
  @ApiProperty({ example: 'onboarding.approved' }) action!: string;
  @ApiProperty({ example: 'onboarding_request' }) subjectType!: string;
  @ApiProperty({ type: String, nullable: true }) subjectId!: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['acceptance', 'production'] }) environment!: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId!: string | null;
  @ApiProperty({ type: String, nullable: true }) clientIp!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Facts about the change; never secrets, tokens or codes' }) detail!: Record<
    string,
    unknown
  >;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'HMAC-SHA-256 (under a key the database never holds) of the previous hash, seq and this row, once sealed',
  })
  hash!: string | null;
}

export function toAuditEventView(e: AuditEvent): AuditEventView {
  return {
    id: e.id,
    seq: e.seq,
    occurredAt: e.occurredAt,
    actorType: e.actorType,
    actorId: e.actorId,
    action: e.action,
    subjectType: e.subjectType,
    subjectId: e.subjectId,
    environment: e.environment,
    correlationId: e.correlationId,
    clientIp: e.clientIp,
    detail: (e.detail ?? {}) as Record<string, unknown>,
    hash: e.hash,
  };
}

export class AuditEventsPageView {
  @ApiProperty({ type: [AuditEventView], description: 'Newest first' }) events!: AuditEventView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last page' }) nextBefore!: string | null;
}

export class BrokenChainRowView {
  @ApiProperty({ description: 'Empty when the problem is not a row (a checkpoint file, keyed_from)' }) seq!: string;
  @ApiProperty({ description: 'The row id; empty when the row is missing' }) id!: string;
  @ApiProperty() reason!: string;
}

export class RejectedCheckpointView {
  @ApiProperty() file!: string;
  @ApiProperty({ example: 'the signature does not verify' }) reason!: string;
}

export class CheckpointComparisonView {
  @ApiProperty({ description: 'Valid signed checkpoints compared with the chain' }) given!: number;
  @ApiProperty({ description: 'Of those, how many the chain matched before verification stopped' }) matched!: number;
  @ApiProperty({ type: [RejectedCheckpointView], description: 'Files that are not valid checkpoints under the public key' })
  rejected!: RejectedCheckpointView[];
}

/** A checkpoint as written to the checkpoint folder, and where. */
export class SignedCheckpointView {
  @ApiProperty({ enum: ['audit-checkpoint'] }) type!: 'audit-checkpoint';
  @ApiProperty({ enum: [1] }) version!: 1;
  @ApiProperty({ description: 'The head seq signed' }) seq!: string;
  @ApiProperty() headHash!: string;
  @ApiProperty({ description: 'The first keyed seq' }) keyedFrom!: string;
  @ApiProperty({ format: 'date-time' }) signedAt!: string;
  @ApiProperty({ description: 'Fingerprint of the Ed25519 public key' }) keyId!: string;
  @ApiProperty({ description: 'Ed25519 signature, base64' }) signature!: string;
  @ApiProperty({ description: 'File name in the checkpoint folder' }) file!: string;
}

export class UnsealedRowsView {
  @ApiProperty({ description: 'Committed rows not sealed into the chain yet (normally sealed within a second)' }) count!: number;
  @ApiProperty({ description: 'Of those, committed over 5 minutes ago: sealing is failing, and ok is false' }) stale!: number;
}

/** Built field by field by `AuditService.verify`; documented here. */
export class ChainVerificationView {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'Rows checked' }) checked!: number;
  @ApiProperty() headSeq!: string;
  @ApiProperty() headHash!: string;
  @ApiProperty({ description: 'The first seq sealed with the keyed MAC; earlier rows carry unkeyed SHA-256 links' }) keyedFrom!: string;
  @ApiProperty({ type: CheckpointComparisonView }) checkpoints!: CheckpointComparisonView;
  @ApiProperty({ type: UnsealedRowsView }) unsealed!: UnsealedRowsView;
  @ApiPropertyOptional({ type: BrokenChainRowView, description: 'The first row whose hash or link does not match, when ok is false' })
  firstBroken?: BrokenChainRowView;
}
