import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, RateLimitedError, STATUS_BY_KIND } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { Public } from '../common/auth.decorators.js';
import { renderPage } from '../web/page.js';
import { parseLinkToken } from './delivery.crypto.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { envLabel, formatTime } from './delivery.service.js';
import type { DeliveryOverview } from './delivery.types.js';
import { SIM_SWAP_HELD_MESSAGE } from './sms-checks.service.js';

type Form = Record<string, unknown> | null | undefined;
const field = (body: Form, name: string): unknown => (body && typeof body === 'object' ? body[name] : undefined);
const SCRIPTS = ['/assets/delivery.js'];

/**
 * The partner's pages. The emailed link is `/delivery#<token>`: the fragment never reaches the server; the
 * page's script (or the person, without JavaScript) puts the token in a form that is POSTed. GET consumes
 * nothing and shows nothing about any delivery. Every page is `Cache-Control: no-store`.
 */
@ApiExcludeController()
@Controller('delivery')
export class DeliveryPagesController {
  constructor(private readonly reveals: DeliveryRevealService) {}

  @Get()
  @Public()
  start(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'delivery/start.eta', { title: 'Retrieve your API credentials', scripts: SCRIPTS, errors: {} });
  }

  @Post('open')
  @Public()
  async open(@Body() body: Form, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.details(req, reply, field(body, 'token'), {});
  }

  @Post('code')
  @Public()
  async code(@Body() body: Form, @Ctx() ctx: RequestContext, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const sent = await this.reveals.requestCode(field(body, 'token'), ctx);
      return this.details(req, reply, field(body, 'token'), { notice: `We sent a code to ${sent.maskedMobile}. It is valid until ${formatTime(sent.codeExpiresAt)}.` });
    } catch (err) {
      return this.details(req, reply, field(body, 'token'), { error: err, field: 'send-code' });
    }
  }

  @Post('reveal')
  @Public()
  async reveal(@Body() body: Form, @Ctx() ctx: RequestContext, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    let r;
    try {
      r = await this.reveals.reveal(field(body, 'token'), field(body, 'code'), ctx);
    } catch (err) {
      return this.details(req, reply, field(body, 'token'), { error: err, field: 'code' });
    }
    const d = r.display;
    const env = [
      `# ${d.apiName} (${envLabel(d.environment)}) for ${d.partnerName}, retrieved ${formatTime(r.revealedAt)}`,
      `CLIENT_ID=${d.clientId}`,
      `CLIENT_SECRET=${r.secret}`,
      `TOKEN_ENDPOINT=${d.tokenEndpoint}`,
      `ISSUER=${d.issuer}`,
      `API_BASE_URL=${d.baseUrl}`,
      `ENVIRONMENT=${d.environment}`,
    ].join('\n');
    return renderPage(req, reply, 'delivery/secret.eta', {
      title: 'Your API credentials',
      scripts: SCRIPTS,
      d,
      environmentLabel: envLabel(d.environment),
      secret: r.secret,
      revealedAt: formatTime(r.revealedAt),
      envFile: env + '\n',
      envFileName: `${d.apiName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${d.environment}.env`,
    });
  }

  private async details(req: FastifyRequest, reply: FastifyReply, tokenInput: unknown, opts: { notice?: string; error?: unknown; field?: string }) {
    let token: string;
    let o: DeliveryOverview;
    try {
      token = parseLinkToken(tokenInput);
      o = await this.reveals.lookup(token);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return renderPage(req, reply, 'delivery/start.eta', { title: 'Retrieve your API credentials', scripts: SCRIPTS, errors: { link: err.message } }, STATUS_BY_KIND[err.kind]);
    }
    const errors: Record<string, string> = {};
    let status = 200;
    if (opts.error) {
      if (!(opts.error instanceof DomainError)) throw opts.error instanceof Error ? opts.error : new Error('a non-Error was thrown', { cause: opts.error });
      errors[opts.field ?? 'code'] = opts.error.message;
      status = STATUS_BY_KIND[opts.error.kind];
      if (opts.error instanceof RateLimitedError) reply.header('retry-after', String(Math.max(1, Math.ceil(opts.error.retryAfterSeconds))));
    }
    return renderPage(
      req,
      reply,
      'delivery/details.eta',
      {
        title: `${o.apiName} (${envLabel(o.environment)}) credentials`,
        scripts: SCRIPTS,
        token,
        o,
        environmentLabel: envLabel(o.environment),
        expiresAt: formatTime(o.expiresAt),
        revealedAt: o.revealedAt ? formatTime(o.revealedAt) : null,
        codeExpiresAt: o.codeExpiresAt ? formatTime(o.codeExpiresAt) : null,
        nextCodeAt: o.nextCodeAt ? formatTime(o.nextCodeAt) : null,
        notice: opts.notice,
        heldMessage: SIM_SWAP_HELD_MESSAGE,
        errors,
      },
      status,
    );
  }
}
