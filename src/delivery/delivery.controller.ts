import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Public, Roles } from '../common/auth.decorators.js';
import {
  ClearSimSwapDto,
  CodeRequestedView,
  DeliveriesView,
  DeliveryOverviewView,
  DeliveryStatusQuery,
  DeliveryTokenDto,
  RevealDeliveryDto,
  RevealedCredentialView,
  SimSwapHoldsView,
  toSimSwapHoldsView,
  toCodeRequestedView,
  toDeliveryOverviewView,
  toDeliveryStatusView,
} from './delivery.dto.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { DeliveryService } from './delivery.service.js';
import { DeliveryIdPipe } from './delivery-id.pipe.js';
import { SmsChecks } from './sms-checks.service.js';

/**
 * The partner's side of a delivery as JSON (the /delivery page does the same with forms). The link token
 * always travels in the body, never in the URL. Nothing is consumed except by `reveal`.
 */
@ApiTags('deliveries')
@Controller('api/deliveries')
export class DeliveryController {
  constructor(
    private readonly deliveries: DeliveryService,
    private readonly reveals: DeliveryRevealService,
    private readonly checks: SmsChecks,
  ) {}

  @Post('lookup')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'What a delivery link is for: partner, API, environment, masked mobile number, state. Consumes nothing.' })
  @ApiOkResponse({ type: DeliveryOverviewView })
  @ApiErrors({ 400: `delivery/invalid_link, ${INVALID}`, 404: 'delivery/not_found: no delivery has this link' })
  async lookup(@Body() body: DeliveryTokenDto): Promise<DeliveryOverviewView> {
    return toDeliveryOverviewView(await this.reveals.lookup(body.token));
  }

  @Post('code')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Send a one-time code by SMS to the technical contact (valid 10 minutes; at most 3 per link, one per 60 s).' })
  @ApiOkResponse({ type: CodeRequestedView })
  @ApiErrors({
    400: `delivery/invalid_link, ${INVALID}`,
    404: 'delivery/not_found',
    410: 'delivery/already_revealed, delivery/expired, delivery/cancelled',
    423: 'delivery/locked, delivery/no_codes_left, delivery/sim_swap_held (the SIM card was changed recently: no code until staff verified the person), delivery/number_not_mobile (not a line that receives codes reliably)',
    429: 'delivery/code_resend_too_soon, delivery/too_many_code_requests, delivery/too_many_attempts (Retry-After)',
    503: 'delivery/number_check_unavailable (the number could not be checked; no code was sent, try again)',
  })
  async requestCode(@Body() body: DeliveryTokenDto, @Ctx() ctx: RequestContext): Promise<CodeRequestedView> {
    return toCodeRequestedView(await this.reveals.requestCode(body.token, ctx));
  }

  @Post('reveal')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Link token + SMS code: returns the secret exactly once and activates it.' })
  @ApiOkResponse({ type: RevealedCredentialView })
  @ApiErrors({
    400: `delivery/wrong_code, delivery/code_expired, delivery/code_voided, delivery/invalid_code, delivery/invalid_link, ${INVALID}`,
    404: 'delivery/not_found',
    409: 'delivery/not_revealed, credential/revoked, credential/cannot_activate',
    410: 'delivery/already_revealed, delivery/expired, delivery/cancelled',
    423: 'delivery/locked, delivery/no_codes_left',
    429: 'delivery/too_many_attempts (Retry-After)',
  })
  async reveal(@Body() body: RevealDeliveryDto, @Ctx() ctx: RequestContext): Promise<RevealedCredentialView> {
    const r = await this.reveals.reveal(body.token, body.code, ctx);
    return {
      clientId: r.display.clientId,
      clientSecret: r.secret,
      apiName: r.display.apiName,
      environment: r.display.environment,
      issuer: r.display.issuer,
      tokenEndpoint: r.display.tokenEndpoint,
      baseUrl: r.display.baseUrl,
      revealedAt: r.revealedAt.toISOString(),
    };
  }

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'Delivery status per subject, for staff (newest first).' })
  @ApiOkResponse({ type: DeliveriesView })
  @ApiErrors({ 400: INVALID })
  async status(@Query() q: DeliveryStatusQuery): Promise<DeliveriesView> {
    return { deliveries: (await this.deliveries.statusFor(q.subjectType, q.subjectId)).map(toDeliveryStatusView) };
  }

  @Post(':id/sim-swap-clear')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary:
      'Clear the SIM-swap hold of a pending delivery after verifying the person through a channel already known; the partner can then ask for a code again (audited with the reason).',
  })
  @ApiOkResponse({ type: SimSwapHoldsView, description: 'The deliveries still held' })
  @ApiErrors({ 400: `delivery/clear_reason_required, ${INVALID}`, 404: 'delivery/not_found', 409: 'delivery/not_held' })
  async clearSimSwap(@Ctx() ctx: RequestContext, @Param('id', DeliveryIdPipe) id: string, @Body() body: ClearSimSwapDto): Promise<SimSwapHoldsView> {
    await this.checks.clear(ctx, id, body.reason);
    return toSimSwapHoldsView(await this.checks.blockedSimSwapDeliveries());
  }

  @Get('sim-swap-holds')
  @Roles('viewer')
  @ApiOperation({ summary: 'Pending deliveries whose SMS codes are held after a recent SIM change, waiting for staff to verify the person' })
  @ApiOkResponse({ type: SimSwapHoldsView })
  async simSwapHolds(): Promise<SimSwapHoldsView> {
    return toSimSwapHoldsView(await this.checks.blockedSimSwapDeliveries());
  }
}
