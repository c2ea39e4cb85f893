import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../common/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { CancelRotationDto, IssueCredentialsDto, ListCredentialsDto, RevokeDto, StartRotationDto } from './credentials.dto.js';
import {
  CredentialDetailView,
  CredentialListItemView,
  CredentialView,
  IssuedCredentialsView,
  RedeliveryView,
  RevokedCredentialsView,
  toCredentialDetailView,
  toCredentialListItemView,
  toCredentialView,
  toIssuedCredentialsView,
} from './credentials.views.js';
import { EarlyEndRequestView, RotationView } from './rotation.views.js';
import { RotationOverlapService } from './rotation-overlap.service.js';
import { RotationService } from './rotation.service.js';
import { CredentialsService } from './credentials.service.js';

const NOT_FOUND = 'credential/not_found, request/not_found (malformed id)';

@ApiTags('credentials')
@Controller('api')
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly rotation: RotationService,
    private readonly overlap: RotationOverlapService,
  ) {}

  @Post('onboarding-requests/:id/issue')
  @Roles('reviewer')
  @ApiOperation({
    summary:
      'Issue one credential per approved (API, environment) of the request; each secret goes to delivery. Production is issued by someone other than its approver',
  })
  @ApiCreatedResponse({ type: IssuedCredentialsView })
  @ApiErrors({
    400: INVALID,
    403: 'onboarding/four_eyes_issue: you approved Production for this request; another reviewer issues it',
    404: 'request/not_found (malformed id)',
    409: 'onboarding/approval_missing (also for an unknown request), onboarding/already_issued',
    410: 'onboarding/approval_expired',
  })
  async issue(@Param('id', UuidPipe) id: string, @Body() body: IssueCredentialsDto, @Ctx() ctx: RequestContext): Promise<IssuedCredentialsView> {
    return toIssuedCredentialsView(await this.credentials.issue(ctx, id, body.environment));
  }

  @Get('credentials')
  @Roles('viewer')
  @ApiOperation({ summary: 'Credentials, newest first, filtered by partner, environment, state, API or text' })
  @ApiOkResponse({ type: [CredentialListItemView] })
  @ApiErrors({ 400: INVALID })
  async list(@Query() q: ListCredentialsDto): Promise<CredentialListItemView[]> {
    return (
      await this.credentials.list({
        partnerId: q.partnerId,
        environment: q.environment,
        state: q.state,
        apiKey: q.api,
        q: q.q || undefined,
        limit: q.limit ?? 100,
      })
    ).map(toCredentialListItemView);
  }

  @Get('credentials/:id')
  @Roles('viewer')
  @ApiOperation({ summary: 'One credential with its secrets (hints, dates, last use), delivery status, overlap and rotations' })
  @ApiOkResponse({ type: CredentialDetailView })
  @ApiErrors({ 404: NOT_FOUND })
  async detail(@Param('id', UuidPipe) id: string): Promise<CredentialDetailView> {
    const detail = await this.credentials.detail(id);
    const deliveries = await this.credentials.deliveryStatus(detail.secrets.map((s) => s.id));
    const rotations = await this.rotation.rotations(id);
    return toCredentialDetailView(detail, deliveries, this.overlap.overlapOf(detail, rotations), rotations);
  }

  @Post('credentials/:id/revoke')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Revoke a credential at once, on every instance; its tokens become inactive' })
  @ApiOkResponse({ type: CredentialView })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: 'credential/already_revoked' })
  async revoke(@Param('id', UuidPipe) id: string, @Body() body: RevokeDto, @Ctx() ctx: RequestContext): Promise<CredentialView> {
    return toCredentialView(await this.credentials.revoke(ctx, id, body.reason));
  }

  @Post('partners/:id/credentials/revoke')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Revoke every credential of a partner' })
  @ApiOkResponse({ type: RevokedCredentialsView })
  @ApiErrors({ 400: INVALID, 404: 'request/not_found (malformed id)' })
  async revokePartner(@Param('id', UuidPipe) id: string, @Body() body: RevokeDto, @Ctx() ctx: RequestContext): Promise<RevokedCredentialsView> {
    const { revoked } = await this.credentials.revokeAllOfPartner(ctx, id, body.reason);
    return { revoked };
  }

  @Post('credentials/:id/rotations')
  @Roles('reviewer')
  @ApiOperation({
    summary: 'Start a rotation (another reviewer approves it). An unconfirmed partner request is superseded; another open rotation only with supersede: true',
  })
  @ApiCreatedResponse({ type: RotationView })
  @ApiErrors({
    400: `rotation/invalid_overlap, ${INVALID}`,
    404: NOT_FOUND,
    409: 'rotation/credential_not_active, rotation/already_open (cancel it, or send supersede: true), rotation/overlap_running (end the overlap first)',
  })
  async startRotation(@Param('id', UuidPipe) id: string, @Body() body: StartRotationDto, @Ctx() ctx: RequestContext): Promise<RotationView> {
    return RotationView.of(await this.rotation.start(ctx, id, body.overlapDays, body.supersede === true));
  }

  @Post('rotations/:id/cancel')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Cancel an open rotation before its new secret is in use (an undelivered new secret and its link are cancelled too)' })
  @ApiOkResponse({ type: RotationView, description: 'The cancelled rotation' })
  @ApiErrors({
    400: INVALID,
    404: 'rotation/not_found, request/not_found (malformed id)',
    409: 'rotation/overlap_running (end the overlap instead), rotation/invalid_transition, rotation/conflict',
  })
  async cancelRotation(@Param('id', UuidPipe) id: string, @Body() body: CancelRotationDto, @Ctx() ctx: RequestContext): Promise<RotationView> {
    return RotationView.of(await this.rotation.cancel(ctx, id, body.reason));
  }

  @Post('credentials/:id/early-end-request')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Ask to end an overlap before OVERLAP_QUIET_HOURS of quiet; a different reviewer can then end it (end-overlap)' })
  @ApiOkResponse({ type: EarlyEndRequestView, description: 'Who asked, and when' })
  @ApiErrors({ 404: NOT_FOUND, 409: 'rotation/no_overlap, rotation/early_end_already_requested' })
  async requestEarlyEnd(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext): Promise<EarlyEndRequestView> {
    return this.overlap.requestEarlyEnd(ctx, id);
  }

  @Post('rotations/:id/approve')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Approve a rotation (four-eyes: not the reviewer who started it); the new secret goes to delivery' })
  @ApiOkResponse({ type: RotationView })
  @ApiErrors({
    403: 'rotation/four_eyes: another reviewer must approve a rotation you started',
    404: 'rotation/not_found, request/not_found (malformed id)',
    409: 'rotation/invalid_transition, rotation/credential_not_active, rotation/overlap_running',
  })
  async approveRotation(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext): Promise<RotationView> {
    return RotationView.of(await this.rotation.approve(ctx, id));
  }

  @Post('credentials/:id/end-overlap')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary:
      'End the overlap now: the old secret stops working on every path. Before the old secret has been quiet for OVERLAP_QUIET_HOURS, only after another reviewer asked for it (early-end-request)',
  })
  @ApiOkResponse({ type: CredentialView })
  @ApiErrors({
    403: 'rotation/four_eyes: you asked for the early end yourself; another reviewer ends it',
    404: NOT_FOUND,
    409: 'rotation/no_overlap, rotation/overlap_not_quiet (ask for an early end first)',
  })
  async endOverlap(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext): Promise<CredentialView> {
    return toCredentialView(await this.overlap.endOverlap(ctx, id));
  }

  @Post('credentials/:id/redeliver')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Send a fresh secret in place of an undelivered one; the old delivery is cancelled' })
  @ApiOkResponse({ type: RedeliveryView })
  @ApiErrors({ 404: NOT_FOUND, 409: 'credential/revoked, delivery/nothing_pending' })
  async redeliver(@Param('id', UuidPipe) id: string, @Ctx() ctx: RequestContext): Promise<RedeliveryView> {
    const { secretId } = await this.rotation.redeliver(ctx, id);
    return { secretId };
  }
}
