import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../common/auth.decorators.js';
import { AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';
import { AuditEventsPageView, ChainVerificationView, SignedCheckpointView, toAuditEventView } from './audit.views.js';

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
  @ApiOperation({ summary: 'Verify the keyed chain against the signed checkpoints and name the first row that does not match' })
  @ApiOkResponse({
    type: ChainVerificationView,
    description: 'ok is false when a row was changed, removed or inserted, the chain no longer matches a signed checkpoint, or a checkpoint file is not valid',
  })
  verify(): Promise<ChainVerificationView> {
    return this.audit.verify();
  }

  @Post('checkpoints')
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Sign the chain head now and write the checkpoint outside the database' })
  @ApiCreatedResponse({ type: SignedCheckpointView })
  checkpoint(@Ctx() ctx: RequestContext): Promise<SignedCheckpointView> {
    return this.audit.checkpoint(ctx);
  }
}
