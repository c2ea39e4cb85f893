import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../staff/auth.decorators.js';
import { AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@Controller('api/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'Search the audit trail (newest first, cursor-paginated)' })
  list(@Query() q: AuditQueryDto) {
    return this.audit.search(q);
  }

  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Walk the hash chain and report the first broken row' })
  verify() {
    return this.audit.verify();
  }
}
