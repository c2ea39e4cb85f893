import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock.js';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, STATUS_BY_KIND } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import type { Environment, OnboardingState } from '../generated/prisma/enums.js';
import { ROLE_RANK, Roles } from '../common/auth.decorators.js';
import { ageOf } from '../web/age.js';
import { renderConfirmPage } from '../web/confirm-page.js';
import { consoleNav, renderPage } from '../web/page.js';
import { APPLY_TEXT } from '../web/i18n/apply.text.js';
import { catalogueGroups, countryOptions, emptyIntake, fieldErrorsFrom, readIntakeForm, validateIntake } from './intake-form.js';
import { ONBOARDING_STATES } from './onboarding-request.state.js';
import { OnboardingReviewService } from './onboarding-review.service.js';
import { OnboardingService } from './onboarding.service.js';
import { ContactLineService } from './contact-line.service.js';
import type { CatalogueEntry, OnboardingRequestView } from './onboarding.types.js';
import { actionsFor } from './console-requests.actions.js';
import { RequestIdPipe } from './request-id.pipe.js';
import { ApproveDto, ContactLineOverrideDto, RejectDto, RequestChangesDto, VersionDto, WithdrawDto } from './onboarding.dto.js';
import { fieldErrorsOf, formText, readForm } from '../common/form.js';
import type { ClassConstructor } from 'class-transformer';

const PAGE_SIZE = 50;
const NAV = '/console/requests';

/** The reviewers' pages. Every action here is also a JSON endpoint under /api/onboarding-requests. */
@ApiExcludeController()
@Controller('console/requests')
export class ConsoleRequestsController {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly review: OnboardingReviewService,
    private readonly clock: Clock,
    private readonly lines: ContactLineService,
  ) {}

  @Get()
  @Roles('viewer')
  async queue(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    const str = (k: string, max = 200) => formText(query, k, max);
    const catalogue = await this.onboarding.catalogue();
    const apis = [...new Map(catalogue.map((c) => [c.apiKey, c.apiName])).entries()].map(([key, name]) => ({ key, name }));
    const filter = {
      q: str('q'),
      state: ONBOARDING_STATES.includes(str('state') as OnboardingState) ? (str('state') as OnboardingState) : undefined,
      api: apis.some((a) => a.key === str('api')) ? str('api') : undefined,
      environment: ['acceptance', 'production'].includes(str('environment')) ? (str('environment') as Environment) : undefined,
      sort: str('sort') === 'oldest' ? ('oldest' as const) : undefined,
    };
    const page = Math.max(1, Math.min(1000, Number.parseInt(str('page', 5), 10) || 1));
    const [result, counts] = await Promise.all([
      this.onboarding.list({ ...filter, q: filter.q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
      this.onboarding.countsByState(),
    ]);
    return renderPage(req, reply, 'console/requests.eta', {
      title: 'Onboarding requests',
      nav: consoleNav(req, NAV),
      filter,
      apis,
      states: ONBOARDING_STATES,
      counts,
      rows: result.rows,
      total: result.total,
      page,
      pages: Math.max(1, Math.ceil(result.total / PAGE_SIZE)),
      canCreate: ROLE_RANK[req.staff!.role] >= ROLE_RANK.reviewer,
      age: (since: string) => ageOf(since, this.clock.now()),
    });
  }

  @Get('new')
  @Roles('reviewer')
  async newForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderNew(req, reply, emptyIntake(), {});
  }

  @Post('new')
  @Roles('reviewer')
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Body() body: unknown) {
    const values = readIntakeForm(body);
    const catalogue = await this.onboarding.catalogue();
    const { input, errors } = await validateIntake(values, catalogue);
    if (!input) return this.renderNew(req, reply, values, errors, 400, catalogue);
    try {
      const { id } = await this.onboarding.submit(ctx, input);
      return reply.status(303).redirect(`/console/requests/${id}?done=created`, 303);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid') return this.renderNew(req, reply, values, fieldErrorsFrom(err), 400);
      throw err;
    }
  }

  @Get(':id')
  @Roles('viewer')
  async detail(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id', RequestIdPipe) id: string) {
    const done = (req.query as Record<string, unknown>)?.done;
    return this.renderDetail(req, reply, await this.onboarding.get(id), { done: typeof done === 'string' ? done : null });
  }

  @Post(':id/start-review')
  @Roles('reviewer')
  startReview(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
    @Param('id', RequestIdPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.perform(req, reply, id, 'review_started', VersionDto, { body }, (f) => this.review.startReview(ctx, id, f.version));
  }

  @Post(':id/allow-contact-number')
  @Roles('reviewer')
  async allowContactNumber(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
    @Param('id', RequestIdPipe) id: string,
    @Body() body: unknown,
  ) {
    // The service holds the rule (5 to 2000 characters); its refusal names the page's field.
    const reason = formText(body, 'lineReason', 2001);
    const form = { body: { reason, version: formText(body, 'version', 12) || undefined }, fieldIds: LINE_REASON_FIELD, values: { lineReason: reason } };
    return this.perform(
      req,
      reply,
      id,
      'number_allowed',
      ContactLineOverrideDto,
      form,
      async (f) => (await this.lines.override(ctx, id, f.reason), this.onboarding.get(id)),
    );
  }

  @Post(':id/confirm-contact')
  @Roles('reviewer')
  confirmContact(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
    @Param('id', RequestIdPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.perform(req, reply, id, 'contact_confirmed', VersionDto, { body }, (f) => this.review.confirmContact(ctx, id, f.version));
  }

  /** Production access is confirmed on a page that says what it lets the partner do; the POST from there approves. */
  @Get(':id/approve')
  @Roles('reviewer')
  async confirmApprove(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id', RequestIdPipe) id: string,
    @Query() query: Record<string, unknown>,
  ) {
    const r = await this.onboarding.get(id);
    const environment = query.environment === 'acceptance' ? 'acceptance' : 'production';
    const approval = actionsFor(r, req.staff!).approvals.find((a) => a.environment === environment && !a.blocked);
    if (!approval) return reply.status(303).redirect(`/console/requests/${id}`, 303);
    const apis = r.items.filter((i) => i.environment === environment).map((i) => i.apiName);
    const envName = environment === 'production' ? 'Production' : 'Acceptance';
    return renderConfirmPage(req, reply, consoleNav(req, NAV), {
      title: `Approve ${envName}?`,
      heading: `Approve ${envName} access for ${r.partner.legalName}?`,
      consequences: [
        `${r.partner.legalName} gets access to ${apis.join(', ')} in ${envName}${environment === 'production' ? ', with live data' : ''}.`,
        'Another reviewer then issues the credentials; the secrets go to the technical contact named on this request.',
        `Technical contact: ${r.contact.name} (${r.contact.email}).`,
      ],
      facts: [
        ['Request', r.reference],
        ['Partner', `${r.partner.legalName} (${r.partner.registrationNumber}, ${r.partner.country})`],
        ['Purpose', r.purpose],
      ],
      destructive: environment === 'production',
      warningText: 'An approval for Production can be withdrawn only by revoking the credentials issued from it.',
      action: `/console/requests/${id}/approve`,
      hidden: { environment, version: formText(query, 'version', 12) || String(r.version) },
      confirmLabel: `Yes, approve ${envName}`,
      cancelHref: `/console/requests/${id}`,
    });
  }

  @Post(':id/approve')
  @Roles('reviewer')
  approve(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    return this.perform(
      req,
      reply,
      id,
      (f) => `approved_${f.environment}`,
      ApproveDto,
      { body },
      (f) => this.review.approve(ctx, id, f.environment, f.version),
    );
  }

  @Post(':id/reject')
  @Roles('reviewer')
  reject(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    return this.perform(req, reply, id, 'rejected', RejectDto, { body, values: { reason: formText(body, 'reason', 2000) } }, (f) =>
      this.review.reject(ctx, id, f.reason, f.version),
    );
  }

  @Post(':id/request-changes')
  @Roles('reviewer')
  requestChanges(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
    @Param('id', RequestIdPipe) id: string,
    @Body() body: unknown,
  ) {
    return this.perform(req, reply, id, 'changes_requested', RequestChangesDto, { body, values: { note: formText(body, 'note', 2000) } }, (f) =>
      this.review.requestChanges(ctx, id, f.note, f.version),
    );
  }

  @Post(':id/withdraw')
  @Roles('reviewer')
  withdraw(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    const form = { body, fieldIds: WITHDRAW_REASON_FIELD };
    return this.perform(req, reply, id, 'withdrawn', WithdrawDto, form, (f) => this.onboarding.withdraw(ctx, id, f.reason || undefined, f.version));
  }

  /**
   * Runs an action and goes back to the request (303). Refusals a reviewer can act on (four-eyes,
   * someone else was first, a missing reason) are shown on the request page itself, with their code.
   */
  private async perform<T extends object>(
    req: FastifyRequest,
    reply: FastifyReply,
    id: string,
    done: string | ((form: T) => string),
    dto: ClassConstructor<T>,
    { body, fieldIds, values = {} }: PageForm,
    action: (form: T) => Promise<unknown>,
  ) {
    const read = await readForm(dto, body, { fieldIds });
    if (!read.ok) return this.renderDetail(req, reply, await this.onboarding.get(id), { errors: read.errors, values }, 400);
    try {
      await action(read.value);
      return reply.status(303).redirect(`/console/requests/${id}?done=${typeof done === 'string' ? done : done(read.value)}`, 303);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid' && err.details?.fields) {
        return this.renderDetail(req, reply, await this.onboarding.get(id), { errors: fieldErrorsOf(err, { fieldIds }), values }, 400);
      }
      if (err instanceof DomainError && ['conflict', 'forbidden', 'invalid', 'gone'].includes(err.kind) && err.code.startsWith('onboarding/')) {
        return this.renderDetail(req, reply, await this.onboarding.get(id), { refusal: { code: err.code, message: err.message } }, STATUS_BY_KIND[err.kind]);
      }
      throw err;
    }
  }

  private async renderDetail(req: FastifyRequest, reply: FastifyReply, request: OnboardingRequestView, extra: Record<string, unknown>, status = 200) {
    const [history, contacts, lineOverride] = await Promise.all([
      this.onboarding.history(request.id),
      this.onboarding.partnerContacts(request.partner.id),
      this.lines.overrideOf(request.id),
    ]);
    return renderPage(
      req,
      reply,
      'console/requests-detail.eta',
      {
        title: `Request ${request.reference}`,
        nav: consoleNav(req, NAV),
        request,
        history,
        contacts,
        lineOverride,
        actions: actionsFor(request, req.staff!),
        errors: {},
        values: {},
        done: null,
        refusal: null,
        ...extra,
      },
      status,
    );
  }

  private async renderNew(
    req: FastifyRequest,
    reply: FastifyReply,
    values: ReturnType<typeof emptyIntake>,
    errors: Record<string, string>,
    status = 200,
    catalogue?: CatalogueEntry[],
  ) {
    return renderPage(
      req,
      reply,
      'console/requests-new.eta',
      {
        title: 'New request on behalf of a partner',
        nav: consoleNav(req, NAV),
        values,
        errors,
        t: APPLY_TEXT.en,
        groups: catalogueGroups(catalogue ?? (await this.onboarding.catalogue())),
        countries: countryOptions(),
      },
      status,
    );
  }
}

/** A posted form, the page's ids of fields the DTO names otherwise, and the text shown back after a refusal. */
interface PageForm {
  body: unknown;
  fieldIds?: (path: string) => string;
  values?: Record<string, string>;
}

const LINE_REASON_FIELD = (path: string) => (path === 'reason' ? 'lineReason' : path);
const WITHDRAW_REASON_FIELD = (path: string) => (path === 'reason' ? 'withdraw-reason' : path);
