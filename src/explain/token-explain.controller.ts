import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { RateLimitedError, STATUS_BY_KIND } from '../common/domain-error.js';
import { clientIpOf } from '../common/http-context.js';
import { Public } from '../common/auth.decorators.js';
import { renderPage } from '../web/page.js';
import { formText, readForm } from '../common/form.js';
import { langOr, pageLang, type Lang } from '../common/i18n.js';
import { EXPLAIN_TEXT } from '../web/i18n/explain.text.js';
import { ExplainRateLimit } from './explain-rate-limit.js';
import { ExplainTokenDto, toTokenExplanationView, TokenExplanationView } from './token-explain.dto.js';
import { TokenExplainService } from './token-explain.service.js';

/** The DTO's English messages, in the page's language. */
function translator(lang: Lang): (message: string) => string {
  const t = EXPLAIN_TEXT[lang];
  const byEnglish: Record<string, string> = { [EXPLAIN_TEXT.en.errEmpty]: t.errEmpty, [EXPLAIN_TEXT.en.errLong]: t.errLong };
  return (message) => byEnglish[message] ?? message;
}

/**
 * The public token explainer, as a page and as JSON. The token is read from the request body only (never
 * a URL), never echoed back into the form, stored or logged; every answer is `Cache-Control: no-store`.
 */
@ApiTags('token-explain')
@Controller()
@Public()
export class TokenExplainController {
  constructor(
    private readonly explainer: TokenExplainService,
    private readonly limit: ExplainRateLimit,
  ) {}

  @Post('api/token-explain')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Why an access token is refused (or that it is fine), with a reason code and what to do next. Tokens only: never send a client secret.',
  })
  @ApiOkResponse({ type: TokenExplanationView })
  @ApiErrors({ 400: INVALID, 429: 'token_explain/rate_limited (per client IP and hour; Retry-After)' })
  async explainJson(@Body() dto: ExplainTokenDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<TokenExplanationView> {
    reply.header('cache-control', 'no-store');
    await this.limit.hit(clientIpOf(req));
    return toTokenExplanationView(await this.explainer.explain(dto));
  }

  @Get('token-explain')
  @ApiExcludeEndpoint()
  async form(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.render(req, reply, pageLang(req.query, req.headers['accept-language']), {});
  }

  @Post('token-explain')
  @ApiExcludeEndpoint()
  async submit(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const values = { api: formText(body, 'api', 40), environment: formText(body, 'environment', 20) };
    // The form carries the page's language; the answer comes back in it.
    const lang = langOr(formText(body, 'lang', 2));
    const t = EXPLAIN_TEXT[lang];
    try {
      await this.limit.hit(clientIpOf(req));
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
      return this.render(req, reply, lang, { values, errors: { token: lang === 'en' ? err.message : t.errRateLimited } }, STATUS_BY_KIND[err.kind]);
    }
    const form = await readForm(ExplainTokenDto, body, { pageFields: ['lang'], translate: translator(lang) });
    if (!form.ok) return this.render(req, reply, lang, { values, errors: form.errors }, 400);
    const { token, api, environment } = form.value;
    const choices = await this.explainer.choices();
    // An API not in the catalogue (any more) is left out of the checks, not refused.
    const apiKey = choices.some((c) => c.apiKey === api) ? api : undefined;
    const result = toTokenExplanationView(await this.explainer.explain({ token: token.trim(), api: apiKey, environment }, lang));
    return this.render(req, reply, lang, { values, result, choices });
  }

  private async render(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    data: {
      values?: Record<string, string>;
      errors?: Record<string, string>;
      result?: TokenExplanationView;
      choices?: Array<{ apiKey: string; apiName: string }>;
    },
    status = 200,
  ) {
    const choices = data.choices ?? (await this.explainer.choices());
    return renderPage(
      req,
      reply,
      'explain/token.eta',
      {
        title: EXPLAIN_TEXT[lang].title,
        lang,
        t: EXPLAIN_TEXT[lang],
        errors: data.errors ?? {},
        values: data.values ?? { api: '', environment: '' },
        result: data.result ?? null,
        choices,
      },
      status,
    );
  }
}
