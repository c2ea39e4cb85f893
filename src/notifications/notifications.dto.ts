import { ApiPropertyOptional } from '@nestjs/swagger';
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
