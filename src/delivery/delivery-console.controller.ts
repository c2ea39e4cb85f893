import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../common/auth.decorators.js';
import { DeliveryIdPipe } from './delivery-id.pipe.js';
import { SmsChecks } from './sms-checks.service.js';

/** Where the form came from, when it is a console page; the console's list otherwise (no open redirect). */
const BACK = /^\/console\/[a-z-]+(\/[0-9a-f-]{36})?$/;

@ApiExcludeController()
@Controller('console/deliveries')
export class DeliveryConsoleController {
  constructor(private readonly checks: SmsChecks) {}

  @Post(':id/clear-sim-swap')
  @Roles('reviewer')
  async clearSimSwap(
    @Ctx() ctx: RequestContext,
    @Param('id', DeliveryIdPipe) id: string,
    @Body() body: Record<string, unknown> | undefined,
    @Res() reply: FastifyReply,
  ) {
    await this.checks.clear(ctx, id, typeof body?.reason === 'string' ? body.reason : '');
    const back = typeof body?.back === 'string' && BACK.test(body.back) ? body.back : '/console/credentials';
    return reply.status(303).redirect(`${back}?done=sim_swap_cleared`, 303);
  }
}
