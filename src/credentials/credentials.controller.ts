import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../staff/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { IssueCredentialsDto, ListCredentialsDto, RevokeDto } from './credentials.dto.js';
import { CredentialsService } from './credentials.service.js';

@ApiTags('credentials')
@Controller('api')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post('onboarding-requests/:id/issue')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Issue one credential per approved (API, environment) of the request; each secret goes to delivery' })
  issue(@Param('id', UuidPipe) id: string, @Body() body: IssueCredentialsDto, @Ctx() ctx: RequestContext) {
    return this.credentials.issue(ctx, id, body.environment);
  }

  @Get('credentials')
  @Roles('viewer')
  @ApiOperation({ summary: 'Credentials, newest first, filtered by partner, environment, state, API or text' })
  list(@Query() q: ListCredentialsDto) {
    return this.credentials.list({ partnerId: q.partnerId, environment: q.environment, state: q.state, apiKey: q.api, q: q.q || undefined, limit: q.limit ?? 100 });
  }

  @Get('credentials/:id')
  @Roles('viewer')
  @ApiOperation({ summary: 'One credential with its secrets (hints, dates, last use) and delivery status' })
  async detail(@Param('id', UuidPipe) id: string) {
    const detail = await this.credentials.detail(id);
    const deliveries = await this.credentials.deliveryStatus(detail.secrets.map((s) => s.id));
    return { ...detail, deliveries };
  }

  @Post('credentials/:id/revoke')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Revoke a credential at once, on every instance; its tokens become inactive' })
  revoke(@Param('id', UuidPipe) id: string, @Body() body: RevokeDto, @Ctx() ctx: RequestContext) {
    return this.credentials.revoke(ctx, id, body.reason);
  }

  @Post('partners/:id/credentials/revoke')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Revoke every credential of a partner' })
  revokePartner(@Param('id', UuidPipe) id: string, @Body() body: RevokeDto, @Ctx() ctx: RequestContext) {
    return this.credentials.revokeAllOfPartner(ctx, id, body.reason);
  }
}
