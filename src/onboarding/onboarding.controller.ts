import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../staff/auth.decorators.js';
import {
  ApproveDto,
  CreateOnboardingRequestDto,
  EditOnboardingRequestDto,
  ListOnboardingRequestsDto,
  RejectDto,
  RequestChangesDto,
  VersionDto,
  WithdrawDto,
} from './onboarding.dto.js';
import { OnboardingReviewService } from './onboarding-review.service.js';
import { OnboardingService } from './onboarding.service.js';
import { RequestIdPipe } from './request-id.pipe.js';


@ApiTags('onboarding')
@Controller('api/onboarding-requests')
export class OnboardingController {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly review: OnboardingReviewService,
  ) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'The queue: search (reference, partner name, contact email) and filter by state, API, environment' })
  list(@Query() q: ListOnboardingRequestsDto) {
    return this.onboarding.list({ q: q.q || undefined, state: q.state, api: q.api, environment: q.environment, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get('catalogue')
  @Roles('viewer')
  @ApiOperation({ summary: 'The APIs and environments a request can name' })
  catalogue() {
    return this.onboarding.catalogue();
  }

  @Get('issuable')
  @Roles('viewer')
  @ApiOperation({ summary: 'Approvals that credentials can be issued from now (approved, unissued, unexpired)' })
  issuable() {
    return this.review.listIssuable();
  }

  @Post()
  @Roles('reviewer')
  @ApiOperation({ summary: 'Submit a request on a partner\'s behalf (the staff member counts as its creator for four-eyes)' })
  @ApiCreatedResponse({ description: '{ id, reference, statusUrl }: the status link is returned only here and in the receipt email' })
  async create(@Ctx() ctx: RequestContext, @Body() body: CreateOnboardingRequestDto) {
    const { id, reference, statusToken } = await this.onboarding.submit(ctx, body);
    return { id, reference, statusUrl: this.onboarding.statusUrl(statusToken) };
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({ summary: 'One request: partner, contact, items, approvals, state and version' })
  get(@Param('id', RequestIdPipe) id: string) {
    return this.onboarding.get(id);
  }

  @Get(':id/history')
  @Roles('viewer')
  @ApiOperation({ summary: 'The request\'s audit events, newest first' })
  history(@Param('id', RequestIdPipe) id: string) {
    return this.onboarding.history(id);
  }

  @Patch(':id')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Correct purpose or items of an open request (the editor may then not approve it)' })
  @ApiConflictResponse({ description: 'onboarding/conflict or onboarding/invalid_transition' })
  edit(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: EditOnboardingRequestDto) {
    return this.onboarding.edit(ctx, id, { purpose: body.purpose, items: body.items }, body.version);
  }

  @Post(':id/start-review')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'submitted -> in_review' })
  @ApiOkResponse({ description: 'The request after the change' })
  @ApiConflictResponse({ description: 'onboarding/invalid_transition or onboarding/conflict' })
  startReview(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: VersionDto) {
    return this.review.startReview(ctx, id, body.version);
  }

  @Post(':id/confirm-contact')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Confirm the new technical contact a request names for an already known partner (checked with the partner); a different reviewer then approves, which attaches the contact to the partner' })
  @ApiOkResponse({ description: 'The request after the change' })
  @ApiConflictResponse({ description: 'onboarding/contact_known, onboarding/contact_already_confirmed, onboarding/invalid_transition or onboarding/conflict' })
  confirmContact(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: VersionDto) {
    return this.review.confirmContact(ctx, id, body.version);
  }

  @Post(':id/approvals')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Approve one environment; the request is approved when every requested environment is. 403 onboarding/four_eyes for its creator, last editor or the reviewer who confirmed a new contact; 403 onboarding/contact_unconfirmed while a new contact of a known partner is unconfirmed; 409 onboarding/acceptance_first' })
  @ApiConflictResponse({ description: 'onboarding/conflict, onboarding/invalid_transition, onboarding/already_approved, onboarding/acceptance_first' })
  approve(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: ApproveDto) {
    return this.review.approve(ctx, id, body.environment, body.version);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'in_review -> rejected, with a reason the partner sees' })
  reject(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: RejectDto) {
    return this.review.reject(ctx, id, body.reason, body.version);
  }

  @Post(':id/request-changes')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'in_review -> changes_requested, with a note the partner sees' })
  requestChanges(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: RequestChangesDto) {
    return this.review.requestChanges(ctx, id, body.note, body.version);
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Withdraw on the partner\'s behalf (submitted, in_review or changes_requested)' })
  withdraw(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: WithdrawDto) {
    return this.onboarding.withdraw(ctx, id, body.reason, body.version);
  }
}
