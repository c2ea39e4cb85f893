import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../staff/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { IssueCredentialsDto, ListCredentialsDto, RevokeDto, StartRotationDto } from './credentials.dto.js';
import { RotationService } from './rotation.service.js';
import { CredentialsService } from './credentials.service.js';

@ApiTags('credentials')
@Controller('api')
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly rotation: RotationService,
  ) {}

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
    return { ...detail, deliveries, overlap: this.rotation.overlapOf(detail), rotations: await this.rotation.rotations(id) };
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

  @Post('credentials/:id/rotations')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Start a rotation (another reviewer approves it)' })
  startRotation(@Param('id', UuidPipe) id: string, @Body() body: StartRotationDto, @Ctx() ctx: RequestContext) {
    return this.rotation.start(ctx, id, body.overlapDays);
  }

  @Post('rotations/:id/approve')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Approve a rotation (four-eyes: not the reviewer who started it); the new secret goes to delivery' })
  approveRotation(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.rotation.approve(ctx, id);
  }

  @Post('credentials/:id/end-overlap')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'End the overlap now: the old secret stops working on every path' })
  endOverlap(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.rotation.endOverlap(ctx, id);
  }

  @Post('credentials/:id/redeliver')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Send a fresh secret in place of an undelivered one; the old delivery is cancelled' })
  redeliver(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.rotation.redeliver(ctx, id);
  }
}
