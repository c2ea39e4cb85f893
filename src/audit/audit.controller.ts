import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Roles } from '../staff/auth.decorators.js';
import { AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';
import { AuditEventsPageView, ChainVerificationView, toAuditEventView } from './audit.views.js';

@ApiTags('audit')
@Controller('api/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'Search the audit trail (newest first, cursor-paginated)' })
  @ApiOkResponse({ type: AuditEventsPageView })
  @ApiErrors({ 400: INVALID })
  async list(@Query() q: AuditQueryDto): Promise<AuditEventsPageView> {
    const page = await this.audit.search(q);
    return { events: page.events.map(toAuditEventView), nextBefore: page.nextBefore };
  }

  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Walk the hash chain and report the first broken row' })
  @ApiOkResponse({ type: ChainVerificationView, description: 'ok is false when a row was changed, removed or inserted' })
  verify(): Promise<ChainVerificationView> {
    return this.audit.verify();
  }
}
