import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../common/auth.decorators.js';
import {
  ApproveDto,
  ContactLineOverrideDto,
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
import { ContactLineService } from './contact-line.service.js';
import { RequestIdPipe } from './request-id.pipe.js';
import {
  CreatedOnboardingRequestView,
  IssuableApprovalView,
  OnboardingQueueView,
  OnboardingRequestView,
  RequestableApiView,
  RequestHistoryEventView,
  toIssuableApprovalView,
  toOnboardingQueueView,
  toRequestableApiView,
  toRequestHistoryEventView,
} from './onboarding.views.js';

const NOT_FOUND = 'onboarding/not_found (also for a malformed id)';
const TRANSITION = 'onboarding/invalid_transition (not allowed in the current state), onboarding/conflict (version is not the current one)';

@ApiTags('onboarding')
@Controller('api/onboarding-requests')
export class OnboardingController {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly review: OnboardingReviewService,
    private readonly lines: ContactLineService,
  ) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'The queue: search (reference, partner name, contact email) and filter by state, API, environment' })
  @ApiOkResponse({ type: OnboardingQueueView })
  @ApiErrors({ 400: INVALID })
  async list(@Query() q: ListOnboardingRequestsDto): Promise<OnboardingQueueView> {
    return toOnboardingQueueView(
      await this.onboarding.list({ q: q.q || undefined, state: q.state, api: q.api, environment: q.environment, limit: q.limit ?? 50, offset: q.offset ?? 0 }),
    );
  }

  @Get('catalogue')
  @Roles('viewer')
  @ApiOperation({ summary: 'The APIs and environments a request can name' })
  @ApiOkResponse({ type: [RequestableApiView] })
  async catalogue(): Promise<RequestableApiView[]> {
    return (await this.onboarding.catalogue()).map(toRequestableApiView);
  }

  @Get('issuable')
  @Roles('viewer')
  @ApiOperation({ summary: 'Approvals that credentials can be issued from now (approved, unissued, unexpired)' })
  @ApiOkResponse({ type: [IssuableApprovalView] })
  async issuable(): Promise<IssuableApprovalView[]> {
    return (await this.review.listIssuable()).map(toIssuableApprovalView);
  }

  @Post()
  @Roles('reviewer')
  @ApiOperation({ summary: "Submit a request on a partner's behalf (the staff member counts as its creator for four-eyes)" })
  @ApiCreatedResponse({ type: CreatedOnboardingRequestView })
  @ApiErrors({
    400: `onboarding/unknown_api, onboarding/no_items, contact/line_type_refused (Twilio Lookup: not a line that receives codes reliably), ${INVALID}`,
  })
  async create(@Ctx() ctx: RequestContext, @Body() body: CreateOnboardingRequestDto): Promise<CreatedOnboardingRequestView> {
    const { id, reference, statusToken } = await this.onboarding.submit(ctx, body);
    return { id, reference, statusUrl: this.onboarding.statusUrl(statusToken) };
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({ summary: 'One request: partner, contact, items, approvals, state and version' })
  @ApiOkResponse({ type: OnboardingRequestView })
  @ApiErrors({ 404: NOT_FOUND })
  async get(@Param('id', RequestIdPipe) id: string): Promise<OnboardingRequestView> {
    return this.onboarding.get(id);
  }

  @Get(':id/history')
  @Roles('viewer')
  @ApiOperation({ summary: "The request's audit events, newest first" })
  @ApiOkResponse({ type: [RequestHistoryEventView] })
  @ApiErrors({ 404: 'onboarding/not_found (a malformed id; an unknown one has no history)' })
  async history(@Param('id', RequestIdPipe) id: string): Promise<RequestHistoryEventView[]> {
    return (await this.onboarding.history(id)).map(toRequestHistoryEventView);
  }

  @Patch(':id')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Correct purpose or items of an open request (the editor may then not approve it)' })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: `onboarding/unknown_api, onboarding/no_items, ${INVALID}`, 404: NOT_FOUND, 409: TRANSITION })
  async edit(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: EditOnboardingRequestDto): Promise<OnboardingRequestView> {
    return this.onboarding.edit(ctx, id, { purpose: body.purpose, items: body.items }, body.version);
  }

  @Post(':id/start-review')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'submitted -> in_review' })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: TRANSITION })
  async startReview(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: VersionDto): Promise<OnboardingRequestView> {
    return this.review.startReview(ctx, id, body.version);
  }

  @Post(':id/contact-line-override')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary:
      "Allow the request's technical contact number for SMS codes although Twilio Lookup calls it no mobile line (checked with the person; audited with the reason)",
  })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request' })
  @ApiErrors({ 400: `contact/override_reason_required, ${INVALID}`, 404: NOT_FOUND })
  async overrideContactLine(
    @Ctx() ctx: RequestContext,
    @Param('id', RequestIdPipe) id: string,
    @Body() body: ContactLineOverrideDto,
  ): Promise<OnboardingRequestView> {
    await this.lines.override(ctx, id, body.reason);
    return this.onboarding.get(id);
  }

  @Post(':id/confirm-contact')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary:
      'Confirm the new technical contact a request names for an already known partner (checked with the partner); a different reviewer then approves, which attaches the contact to the partner',
  })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: `onboarding/contact_known, onboarding/contact_already_confirmed, ${TRANSITION}` })
  async confirmContact(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: VersionDto): Promise<OnboardingRequestView> {
    return this.review.confirmContact(ctx, id, body.version);
  }

  @Post(':id/approvals')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary:
      'Approve one environment; the request is approved when every requested environment is. A new contact of a known partner needs a confirmation (confirm-contact) by another reviewer first',
  })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({
    400: `onboarding/environment_not_requested, ${INVALID}`,
    403: "onboarding/four_eyes: the request's creator, last editor or the reviewer who confirmed its new contact cannot approve it; onboarding/contact_unconfirmed: a new contact of a known partner must be confirmed by a reviewer first",
    404: NOT_FOUND,
    409: `onboarding/already_approved, onboarding/acceptance_first, ${TRANSITION}`,
  })
  async approve(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: ApproveDto): Promise<OnboardingRequestView> {
    return this.review.approve(ctx, id, body.environment, body.version);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'in_review -> rejected, with a reason the partner sees' })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: TRANSITION })
  async reject(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: RejectDto): Promise<OnboardingRequestView> {
    return this.review.reject(ctx, id, body.reason, body.version);
  }

  @Post(':id/request-changes')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'in_review -> changes_requested, with a note the partner sees' })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: TRANSITION })
  async requestChanges(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: RequestChangesDto): Promise<OnboardingRequestView> {
    return this.review.requestChanges(ctx, id, body.note, body.version);
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: "Withdraw on the partner's behalf (submitted, in_review or changes_requested)" })
  @ApiOkResponse({ type: OnboardingRequestView, description: 'The request after the change' })
  @ApiErrors({ 400: INVALID, 404: NOT_FOUND, 409: TRANSITION })
  async withdraw(@Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: WithdrawDto): Promise<OnboardingRequestView> {
    return this.onboarding.withdraw(ctx, id, body.reason, body.version);
  }
}
