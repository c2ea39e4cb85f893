import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, STATUS_BY_KIND } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { Public } from '../common/auth.decorators.js';
import { langOr, pageLang, type Lang } from '../common/i18n.js';
import { ROTATION_TEXT, rotationErrorText } from '../web/i18n/rotation.text.js';
import { renderPage } from '../web/page.js';
import { RotationConfirmDto, RotationRequestDto } from './credentials.dto.js';
import { RotationConfirmedView, RotationRequestedView } from './credentials.views.js';
import { RotationRequestService } from './rotation-request.service.js';

const SAME_ANSWER = ROTATION_TEXT.en.sameAnswer;

function field(body: unknown, name: string, max = 100): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

function page(lang: Lang) {
  return { lang, t: ROTATION_TEXT[lang] };
}

/** The partner's side of a rotation: ask with a client_id, confirm through the technical contact's email. */
@ApiTags('rotation')
@Controller()
@Public()
export class RotationPagesController {
  constructor(private readonly rotationRequests: RotationRequestService) {}

  @Get('rotate')
  @ApiExcludeEndpoint()
  form(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const lang = pageLang(req.query, req.headers['accept-language']);
    return renderPage(req, reply, 'rotation/request.eta', { title: ROTATION_TEXT[lang].requestTitle, ...page(lang), errors: {}, clientId: '' });
  }

  @Post('rotate')
  @ApiExcludeEndpoint()
  async submit(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const clientId = field(body, 'clientId');
    const lang = langOr(field(body, 'lang'));
    try {
      await this.rotationRequests.requestByPartner(ctx, clientId);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return renderPage(
        req,
        reply,
        'rotation/request.eta',
        { title: ROTATION_TEXT[lang].requestTitle, ...page(lang), errors: { clientId: rotationErrorText(lang, err.code, err.message) }, clientId },
        STATUS_BY_KIND[err.kind],
      );
    }
    return renderPage(req, reply, 'rotation/requested.eta', {
      title: ROTATION_TEXT[lang].requestedTitle,
      ...page(lang),
      message: ROTATION_TEXT[lang].sameAnswer,
    });
  }

  @Get('rotate/confirm/:token')
  @ApiExcludeEndpoint()
  confirmPage(@Param('token') token: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    // GET never consumes the link (mail scanners open links); the button below does. The emailed link names
    // the contact's language.
    const lang = pageLang(req.query, req.headers['accept-language']);
    return renderPage(req, reply, 'rotation/confirm.eta', { title: ROTATION_TEXT[lang].confirmTitle, ...page(lang), token: token.slice(0, 100) });
  }

  @Post('rotate/confirm')
  @ApiExcludeEndpoint()
  async confirm(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const lang = langOr(field(body, 'lang'));
    const t = ROTATION_TEXT[lang];
    try {
      await this.rotationRequests.confirmByPartner(ctx, field(body, 'token'));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return renderPage(
        req,
        reply,
        'rotation/confirmed.eta',
        { title: t.invalidTitle, ...page(lang), ok: false, message: rotationErrorText(lang, err.code, err.message) },
        STATUS_BY_KIND[err.kind],
      );
    }
    return renderPage(req, reply, 'rotation/confirmed.eta', { title: t.confirmedTitle, ...page(lang), ok: true });
  }

  @Post('api/rotation-requests')
  @HttpCode(202)
  @ApiOperation({ summary: 'Partner asks for a new secret by client_id; the technical contact confirms by email. Same answer whatever the client_id.' })
  @ApiAcceptedResponse({ type: RotationRequestedView })
  @ApiErrors({ 400: `rotation/invalid_client_id, ${INVALID}` })
  async requestJson(@Body() body: RotationRequestDto, @Ctx() ctx: RequestContext): Promise<RotationRequestedView> {
    await this.rotationRequests.requestByPartner(ctx, body.clientId);
    return { message: SAME_ANSWER };
  }

  @Post('api/rotation-requests/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm a rotation request with the emailed token; a reviewer then approves it' })
  @ApiOkResponse({ type: RotationConfirmedView })
  @ApiErrors({ 400: INVALID, 404: 'rotation/link_invalid: unknown, used or expired' })
  async confirmJson(@Body() body: RotationConfirmDto, @Ctx() ctx: RequestContext): Promise<RotationConfirmedView> {
    await this.rotationRequests.confirmByPartner(ctx, body.token);
    return { confirmed: true };
  }
}
