import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, RateLimitedError, STATUS_BY_KIND } from '../common/domain-error.js';
import { langOr, pageLang, type Lang } from '../common/i18n.js';
import type { RequestContext } from '../common/request-context.js';
import { Public } from '../common/auth.decorators.js';
import { deliveryErrorText, deliveryText } from '../web/i18n/delivery.text.js';
import { renderPage } from '../web/page.js';
import { parseLinkToken } from './delivery.crypto.js';
import { DeliveryRevealService } from './delivery-reveal.service.js';
import { envLabel, formatTime } from './delivery.service.js';
import type { DeliveryOverview, RevealedDelivery } from './delivery.types.js';
import { tokenRequestExample } from './developer-steps.js';

type Form = Record<string, unknown> | null | undefined;
const field = (body: Form, name: string): unknown => (body && typeof body === 'object' ? body[name] : undefined);
const SCRIPTS = ['/assets/delivery.js'];

/**
 * The partner's pages. The emailed link is `/delivery#<token>`: the fragment never reaches the server; the
 * page's script (or the person, without JavaScript) puts the token in a form that is POSTed. GET consumes
 * nothing and shows nothing about any delivery. Every page is `Cache-Control: no-store`. Once the link is
 * read, pages speak the contact's language from the delivery itself.
 */
@ApiExcludeController()
@Controller('delivery')
export class DeliveryPagesController {
  constructor(private readonly reveals: DeliveryRevealService) {}

  @Get()
  @Public()
  start(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderStart(req, reply, pageLang(req.query, req.headers['accept-language']), {});
  }

  @Post('open')
  @Public()
  async open(@Body() body: Form, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.details(req, reply, body, {});
  }

  @Post('code')
  @Public()
  async code(@Body() body: Form, @Ctx() ctx: RequestContext, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const sent = await this.reveals.requestCode(field(body, 'token'), ctx);
      return this.details(req, reply, body, { notice: (t) => t.fmt('codeSent', { mobile: sent.maskedMobile, time: formatTime(sent.codeExpiresAt) }) });
    } catch (err) {
      return this.details(req, reply, body, { error: err, field: 'send-code' });
    }
  }

  @Post('reveal')
  @Public()
  async reveal(@Body() body: Form, @Ctx() ctx: RequestContext, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    let r: RevealedDelivery;
    try {
      r = await this.reveals.reveal(field(body, 'token'), field(body, 'code'), ctx);
    } catch (err) {
      return this.details(req, reply, body, { error: err, field: 'code' });
    }
    const d = r.display;
    const lang = r.language;
    const t = deliveryText(lang);
    const env = [
      `# ${d.apiName} (${envLabel(d.environment, lang)}) for ${d.partnerName}, retrieved ${formatTime(r.revealedAt)}`,
      `CLIENT_ID=${d.clientId}`,
      `CLIENT_SECRET=${r.secret}`,
      `TOKEN_ENDPOINT=${d.tokenEndpoint}`,
      `ISSUER=${d.issuer}`,
      `API_BASE_URL=${d.baseUrl}`,
      `ENVIRONMENT=${d.environment}`,
    ].join('\n');
    const replacement = d.reason !== 'issued';
    return renderPage(req, reply, 'delivery/secret.eta', {
      title: t.secretTitle,
      lang,
      t,
      scripts: SCRIPTS,
      d,
      environmentLabel: envLabel(d.environment, lang),
      secret: r.secret,
      replacement,
      replacesText: replacement ? (r.previousSecretEndsAt ? t.fmt('replacesUntil', { time: formatTime(r.previousSecretEndsAt) }) : t.replacesNow) : null,
      tokenRequest: tokenRequestExample(d),
      revealedAt: formatTime(r.revealedAt),
      envFile: env + '\n',
      envFileName: `${d.apiName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${d.environment}.env`,
    });
  }

  private renderStart(req: FastifyRequest, reply: FastifyReply, lang: Lang, errors: Record<string, string>, status = 200) {
    const t = deliveryText(lang);
    return renderPage(req, reply, 'delivery/start.eta', { title: t.startTitle, lang, t, scripts: SCRIPTS, errors }, status);
  }

  private async details(
    req: FastifyRequest,
    reply: FastifyReply,
    body: Form,
    opts: { notice?: (t: ReturnType<typeof deliveryText>) => string; error?: unknown; field?: string },
  ) {
    let token: string;
    let o: DeliveryOverview;
    try {
      token = parseLinkToken(field(body, 'token'));
      o = await this.reveals.lookup(token);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const lang = langOr(field(body, 'lang'));
      return this.renderStart(req, reply, lang, { link: deliveryErrorText(lang, err.code, err.message, err.details) }, STATUS_BY_KIND[err.kind]);
    }
    const lang = o.language;
    const t = deliveryText(lang);
    const errors: Record<string, string> = {};
    let status = 200;
    if (opts.error) {
      if (!(opts.error instanceof DomainError)) throw opts.error instanceof Error ? opts.error : new Error('a non-Error was thrown', { cause: opts.error });
      errors[opts.field ?? 'code'] = deliveryErrorText(lang, opts.error.code, opts.error.message, opts.error.details);
      status = STATUS_BY_KIND[opts.error.kind];
      if (opts.error instanceof RateLimitedError) reply.header('retry-after', String(Math.max(1, Math.ceil(opts.error.retryAfterSeconds))));
    }
    return renderPage(
      req,
      reply,
      'delivery/details.eta',
      {
        title: t.fmt('detailsTitle', { api: o.apiName, env: envLabel(o.environment, lang) }),
        lang,
        t,
        scripts: SCRIPTS,
        token,
        o,
        environmentLabel: envLabel(o.environment, lang),
        expiresAt: formatTime(o.expiresAt),
        revealedAt: o.revealedAt ? formatTime(o.revealedAt) : null,
        codeExpiresAt: o.codeExpiresAt ? formatTime(o.codeExpiresAt) : null,
        nextCodeAt: o.nextCodeAt ? formatTime(o.nextCodeAt) : null,
        notice: opts.notice?.(t),
        errors,
      },
      status,
    );
  }
}
