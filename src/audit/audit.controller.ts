import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
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
  @ApiOperation({ summary: 'Verify the keyed chain against the signed checkpoints and name the first row that does not match' })
  verify() {
    return this.audit.verify();
  }

  @Post('checkpoints')
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Sign the chain head now and write the checkpoint outside the database' })
  checkpoint(@Ctx() ctx: RequestContext) {
    return this.audit.checkpoint(ctx);
  }
}
