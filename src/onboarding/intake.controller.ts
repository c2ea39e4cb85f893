import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock.js';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, InvalidInputError, hasErrorCode } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Public } from '../common/auth.decorators.js';
import { langOr, pageLang, type Lang } from '../common/i18n.js';
import { APPLY_TEXT, translateErrors } from '../web/i18n/apply.text.js';
import { renderPage } from '../web/page.js';
import { formText, readForm, validateForm } from '../common/form.js';
import { EditOnboardingRequestDto, WithdrawDto } from './onboarding.dto.js';
import { catalogueGroups, countryOptions, emptyIntake, fieldErrorsFrom, readIntakeForm, validateIntake, type IntakeValues } from './intake-form.js';
import { OPEN_STATES } from './onboarding-request.state.js';
import { ContactLineService } from './contact-line.service.js';
import { PARTNER_TEXT } from '../web/i18n/status.text.js';
import { OnboardingService } from './onboarding.service.js';
import { signFormIssuedAt, verifyFormIssuedAt } from './onboarding.tokens.js';
import type { CatalogueEntry, OnboardingRequestView } from './onboarding.types.js';

/** A form older than this is sent back to be checked once more (with a fresh signed time). */
const FORM_MAX_AGE_MS = 24 * 3600_000;

/**
 * The partner's pages: the intake form (form -> check your answers -> confirmation) and the status page
 * reachable only through the unguessable link. No staff session involved; the link token is the credential.
 */
@ApiExcludeController()
@Controller()
export class IntakeController {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly lines: ContactLineService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('apply')
  @Public()
  async form(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const lang = pageLang(req.query, req.headers['accept-language']);
    return this.renderForm(req, reply, lang, emptyIntake(lang), {}, this.freshFormTime());
  }

  /** Step 2: validate, then show "check your answers" (or the form again with the errors). */
  @Post('apply')
  @Public()
  async check(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const values = readIntakeForm(body);
    const b = body as Record<string, unknown>;
    const lang = langOr(b?.lang);
    if (isBot(b)) return this.refuseBot(req, reply, lang);
    const formIssuedAt = verifyFormIssuedAt(this.config.secretHashKey, b?.formIssuedAt) !== null ? String(b.formIssuedAt) : this.freshFormTime();
    if (b?.action === 'change') return this.renderForm(req, reply, lang, values, {}, formIssuedAt);
    const catalogue = await this.onboarding.catalogue();
    const { input, errors } = await validateIntake(values, catalogue);
    if (Object.keys(errors).length) return this.renderForm(req, reply, lang, values, errors, formIssuedAt, 400, catalogue);
    try {
      // The number as it will be stored (E.164): people type it the national way.
      await this.lines.assertReceivesCodes(input?.contact.mobile ?? values.contactMobile);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid')
        return this.renderForm(req, reply, lang, values, fieldErrorsFrom(err), formIssuedAt, 400, catalogue);
      throw err;
    }
    return renderPage(req, reply, 'apply/check.eta', {
      title: APPLY_TEXT[lang].checkTitle,
      lang,
      t: APPLY_TEXT[lang],
      values,
      formIssuedAt,
      countryName: countryOptions(lang).find((c) => c.code === values.country.trim().toUpperCase())?.name ?? values.country,
      chosen: catalogue.filter((c) => values.items.includes(`${c.apiKey}:${c.environment}`)),
    });
  }

  /**
   * Step 3: the honeypot, the signed fill time and the per-IP limit; then, in the saving transaction, the
   * form is marked used and the per-address and per-registration-number limits are counted.
   */
  @Post('apply/submit')
  @Public()
  async submit(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Body() body: unknown) {
    const b = (body ?? {}) as Record<string, unknown>;
    const values = readIntakeForm(body);
    const lang = langOr(b.lang);
    if (isBot(b)) return this.refuseBot(req, reply, lang);
    const issuedAt = verifyFormIssuedAt(this.config.secretHashKey, b.formIssuedAt);
    const now = this.clock.now().getTime();
    if (issuedAt === null || now - issuedAt > FORM_MAX_AGE_MS) {
      return this.renderForm(req, reply, lang, values, { legalName: APPLY_TEXT.en.formExpired }, this.freshFormTime(), 400);
    }
    if (now - issuedAt < this.config.onboarding.intakeMinFillSeconds * 1000) {
      throw new InvalidInputError('intake/too_fast', 'This form was sent back too quickly to have been filled in by a person. Please go back and try again.');
    }
    await this.onboarding.countIntake(ctx.clientIp);
    const catalogue = await this.onboarding.catalogue();
    const { input, errors } = await validateIntake(values, catalogue);
    if (!input) return this.renderForm(req, reply, lang, values, errors, String(b.formIssuedAt), 400, catalogue);
    try {
      const form = { token: String(b.formIssuedAt), issuedAtMs: issuedAt };
      const { statusToken } = await this.onboarding.submitFromIntake({ ...ctx, actor: { type: 'partner_contact', id: null } }, input, form);
      return reply.status(303).header('cache-control', 'no-store').redirect(`/requests/${statusToken}/confirmation`, 303);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid' && !hasErrorCode(err, 'intake/form_already_sent'))
        return this.renderForm(req, reply, lang, values, fieldErrorsFrom(err), String(b.formIssuedAt), 400);
      throw err;
    }
  }

  @Get('requests/:token/confirmation')
  @Public()
  async confirmation(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const request = await this.onboarding.getByStatusToken(token);
    const t = APPLY_TEXT[request.language];
    return renderPage(req, reply, 'apply/confirmation.eta', {
      title: t.sentTitle,
      lang: request.language,
      t,
      request,
      statusUrl: this.onboarding.statusUrl(token),
    });
  }

  @Get('requests/:token')
  @Public()
  async status(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const request = await this.onboarding.getByStatusToken(token);
    return this.renderStatus(req, reply, token, request);
  }

  @Get('requests/:token/withdraw')
  @Public()
  async confirmWithdraw(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const request = await this.onboarding.getByStatusToken(token);
    return renderPage(req, reply, 'requests/withdraw.eta', {
      title: PARTNER_TEXT[request.language].withdrawTitle,
      lang: request.language,
      t: PARTNER_TEXT[request.language],
      request,
      token,
      errors: {},
    });
  }

  @Post('requests/:token/withdraw')
  @Public()
  async withdraw(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('token') token: string, @Body() body: unknown) {
    const form = await readForm(WithdrawDto, body);
    if (!form.ok) {
      const request = await this.onboarding.getByStatusToken(token);
      const t = PARTNER_TEXT[request.language];
      const errors = translateErrors(form.errors, request.language);
      const reason = formText(body, 'reason', 600);
      return renderPage(req, reply, 'requests/withdraw.eta', { title: t.withdrawTitle, lang: request.language, t, request, token, reason, errors }, 400);
    }
    await this.onboarding.withdrawByPartner(ctx, token, form.value.reason ?? '');
    return reply.status(303).redirect(`/requests/${token}?done=withdrawn`, 303);
  }

  @Get('requests/:token/edit')
  @Public()
  async editForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const request = await this.onboarding.getByStatusToken(token);
    if (request.state !== 'changes_requested') return reply.status(303).redirect(`/requests/${token}`, 303);
    const values = { purpose: request.purpose, items: request.items.map((i) => `${i.apiKey}:${i.environment}`) };
    return this.renderEdit(req, reply, token, request, values, {});
  }

  @Post('requests/:token/edit')
  @Public()
  async resubmit(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('token') token: string, @Body() body: unknown) {
    const request = await this.onboarding.getByStatusToken(token);
    const form = readIntakeForm(body);
    const version = Number(formText(body, 'version', 12));
    const catalogue = await this.onboarding.catalogue();
    const items = form.items.map((v) => catalogue.find((c) => `${c.apiKey}:${c.environment}` === v));
    const known = items.filter((i) => !!i).map((i) => ({ api: i.apiKey, environment: i.environment }));
    const edit = await validateForm(
      EditOnboardingRequestDto,
      { purpose: form.purpose, items: known, ...(Number.isInteger(version) && version > 0 ? { version } : {}) },
      { fieldIds: (path) => (path.startsWith('items') ? 'items' : path) },
    );
    const errors = edit.ok ? {} : { ...edit.errors };
    if (items.some((i) => !i)) errors.items = 'Choose APIs and environments from the list';
    if (!edit.ok || Object.keys(errors).length) {
      return this.renderEdit(
        req,
        reply,
        token,
        request,
        { purpose: form.purpose, items: form.items },
        translateErrors(errors, request.language),
        400,
        catalogue,
      );
    }
    const { purpose = form.purpose, version: read } = edit.value;
    await this.onboarding.resubmitByPartner(ctx, token, { purpose, items: known }, read);
    return reply.status(303).redirect(`/requests/${token}?done=resubmitted`, 303);
  }

  private freshFormTime(): string {
    return signFormIssuedAt(this.config.secretHashKey, this.clock.now().getTime());
  }

  private async renderForm(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    values: IntakeValues,
    errors: Record<string, string>,
    formIssuedAt: string,
    status = 200,
    catalogue?: CatalogueEntry[],
  ) {
    const t = APPLY_TEXT[lang];
    return renderPage(
      req,
      reply,
      'apply/form.eta',
      {
        title: Object.keys(errors).length ? t.errorTitle : t.title,
        lang,
        t,
        values,
        errors: translateErrors(errors, lang),
        formIssuedAt,
        groups: catalogueGroups(catalogue ?? (await this.onboarding.catalogue())),
        countries: countryOptions(lang),
      },
      status,
    );
  }

  private async renderEdit(
    req: FastifyRequest,
    reply: FastifyReply,
    token: string,
    request: OnboardingRequestView,
    values: { purpose: string; items: string[] },
    errors: Record<string, string>,
    status = 200,
    catalogue?: CatalogueEntry[],
  ) {
    const t = PARTNER_TEXT[request.language];
    return renderPage(
      req,
      reply,
      'requests/edit.eta',
      {
        title: t.editTitle,
        lang: request.language,
        t,
        request,
        token,
        values,
        errors,
        groups: catalogueGroups(catalogue ?? (await this.onboarding.catalogue())),
      },
      status,
    );
  }

  private renderStatus(req: FastifyRequest, reply: FastifyReply, token: string, request: OnboardingRequestView) {
    const done = (req.query as Record<string, unknown>)?.done;
    const t = PARTNER_TEXT[request.language];
    return renderPage(req, reply, 'requests/status.eta', {
      title: `${t.application} ${request.reference}`,
      lang: request.language,
      t,
      request,
      token,
      done: typeof done === 'string' ? done : null,
      canWithdraw: OPEN_STATES.includes(request.state),
      canEdit: request.state === 'changes_requested',
    });
  }

  private refuseBot(req: FastifyRequest, reply: FastifyReply, lang: Lang) {
    // No hint about which check tripped; nothing is saved.
    return renderPage(req, reply, 'apply/refused.eta', { title: APPLY_TEXT[lang].refusedTitle, lang, t: APPLY_TEXT[lang] }, 400);
  }
}

function isBot(b: Record<string, unknown> | null | undefined): boolean {
  return typeof b?.website === 'string' ? b.website.length > 0 : b?.website !== undefined;
}
