import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../staff/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { CancelRotationDto, IssueCredentialsDto, ListCredentialsDto, RevokeDto, StartRotationDto } from './credentials.dto.js';
import { EarlyEndRequestView, RotationView } from './rotation.views.js';
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
  @ApiOperation({ summary: 'Issue one credential per approved (API, environment) of the request; each secret goes to delivery. 403 onboarding/four_eyes_issue when the caller approved Production themselves' })
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
    const rotations = await this.rotation.rotations(id);
    return { ...detail, deliveries, overlap: this.rotation.overlapOf(detail, rotations), rotations };
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
  @ApiOperation({ summary: 'Start a rotation (another reviewer approves it). An unconfirmed partner request is superseded; another open rotation only with supersede: true (409 rotation/already_open otherwise)' })
  startRotation(@Param('id', UuidPipe) id: string, @Body() body: StartRotationDto, @Ctx() ctx: RequestContext) {
    return this.rotation.start(ctx, id, body.overlapDays, body.supersede === true);
  }

  @Post('rotations/:id/cancel')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Cancel an open rotation before its new secret is in use (an undelivered new secret and its link are cancelled too)' })
  @ApiOkResponse({ type: RotationView, description: 'The cancelled rotation' })
  @ApiConflictResponse({ description: 'rotation/overlap_running (end the overlap instead), rotation/invalid_transition, rotation/conflict' })
  async cancelRotation(@Param('id', UuidPipe) id: string, @Body() body: CancelRotationDto, @Ctx() ctx: RequestContext): Promise<RotationView> {
    return RotationView.of(await this.rotation.cancel(ctx, id, body.reason));
  }

  @Post('credentials/:id/early-end-request')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Ask to end an overlap before OVERLAP_QUIET_HOURS of quiet; a different reviewer can then end it (end-overlap)' })
  @ApiOkResponse({ type: EarlyEndRequestView, description: 'Who asked, and when' })
  @ApiConflictResponse({ description: 'rotation/no_overlap, rotation/early_end_already_requested' })
  requestEarlyEnd(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext): Promise<EarlyEndRequestView> {
    return this.rotation.requestEarlyEnd(ctx, id);
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
  @ApiOperation({ summary: 'End the overlap now: the old secret stops working on every path. Before the old secret has been quiet for OVERLAP_QUIET_HOURS, only after another reviewer asked for it (early-end-request)' })
  @ApiConflictResponse({ description: 'rotation/overlap_not_quiet, rotation/no_overlap' })
  @ApiForbiddenResponse({ description: 'rotation/four_eyes: you asked for the early end yourself' })
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
