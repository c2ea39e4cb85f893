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
  async list(@Query() q: AuditQueryDto) {
    const limit = q.limit ?? 50;
    const events = await this.audit.find({
      subjectType: q.subjectType,
      subjectId: q.subjectId,
      actorId: q.actorId,
      action: q.action,
      correlationId: q.correlationId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      before: q.before ? BigInt(q.before) : undefined,
      limit,
    });
    return { events, nextBefore: events.length === limit ? events[events.length - 1].seq : null };
  }

  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Walk the hash chain and report the first broken row' })
  verify() {
    return this.audit.verify();
  }
}
