import { Body, Controller, Get, Header, HttpCode, Post, Query } from '@nestjs/common';
import { ApiGoneResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Public, Roles } from '../staff/auth.decorators.js';
import { CodeRequestedView, DeliveryOverviewView, DeliveryStatusQuery, DeliveryTokenDto, RevealDeliveryDto, RevealedCredentialView } from './delivery.dto.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { DeliveryService } from './delivery.service.js';

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
  ) {}

  @Post('lookup')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'What a delivery link is for: partner, API, environment, masked mobile number, state. Consumes nothing.' })
  @ApiOkResponse({ type: DeliveryOverviewView })
  lookup(@Body() body: DeliveryTokenDto) {
    return this.reveals.lookup(body.token);
  }

  @Post('code')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Send a one-time code by SMS to the technical contact (valid 10 minutes; at most 3 per link, one per 60 s).' })
  @ApiOkResponse({ type: CodeRequestedView })
  @ApiTooManyRequestsResponse({ description: 'delivery/code_resend_too_soon or delivery/too_many_code_requests (Retry-After)' })
  requestCode(@Body() body: DeliveryTokenDto, @Ctx() ctx: RequestContext) {
    return this.reveals.requestCode(body.token, ctx);
  }

  @Post('reveal')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Link token + SMS code: returns the secret exactly once and activates it.' })
  @ApiOkResponse({ type: RevealedCredentialView })
  @ApiGoneResponse({ description: 'delivery/already_revealed, delivery/expired or delivery/cancelled' })
  async reveal(@Body() body: RevealDeliveryDto, @Ctx() ctx: RequestContext) {
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
  async status(@Query() q: DeliveryStatusQuery) {
    return { deliveries: await this.deliveries.statusFor(q.subjectType, q.subjectId) };
  }
}
