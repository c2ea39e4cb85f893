import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListNotificationsQuery {
  @ApiPropertyOptional({ example: 'credential' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  subjectType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  subjectId?: string;

  @ApiPropertyOptional({ enum: ['queued', 'sending', 'sent', 'failed', 'unknown'] })
  @IsOptional()
  @IsIn(['queued', 'sending', 'sent', 'failed', 'unknown'])
  status?: 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';

  @ApiPropertyOptional({ default: 50, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class NotificationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['email', 'sms'] }) channel!: 'email' | 'sms';
  @ApiProperty({ example: 'delivery-link' }) template!: string;
  @ApiProperty({ description: 'Masked address or number' }) recipient!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The email subject once rendered' }) title!: string | null;
  @ApiProperty({ type: String, nullable: true }) subjectType!: string | null;
  @ApiProperty({ type: String, nullable: true }) subjectId!: string | null;
  @ApiProperty({ enum: ['queued', 'sending', 'sent', 'failed', 'unknown'] }) status!: 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) providerId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the provider refused, for failed messages' }) providerReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sentAt!: string | null;
}

export class NotificationsView {
  @ApiProperty({ type: [NotificationView], description: 'Newest first' }) notifications!: NotificationView[];
}
