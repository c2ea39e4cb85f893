import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, MaxLength } from 'class-validator';
import { Transform } from 'class-transformer';

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

  @ApiPropertyOptional({ description: 'One or more subject ids (repeat the parameter or separate with commas).', type: [String] })
  @Transform(({ value }) => (Array.isArray(value) ? value : String(value).split(',')).map((v: string) => v.trim()).filter(Boolean))
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  subjectId!: string[];
}
