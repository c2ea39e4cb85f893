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
import { ONBOARDING_STATES, canTransition } from './onboarding-request.state.js';
import { OnboardingReviewService } from './onboarding-review.service.js';
import { OnboardingService } from './onboarding.service.js';
import { ContactLineService } from './contact-line.service.js';
import type { CatalogueEntry, OnboardingRequestView } from './onboarding.types.js';
import { RequestIdPipe } from './request-id.pipe.js';

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
    const str = (k: string, max = 200) => (typeof query[k] === 'string' ? query[k].trim().slice(0, max) : '');
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
      if (err instanceof DomainError && err.kind === 'invalid') return this.renderNew(req, reply, values, fieldErrorsFrom(err.details), 400);
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
    return this.perform(req, reply, id, 'review_started', () => this.review.startReview(ctx, id, versionOf(body)));
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
    const reason = field(body, 'lineReason').trim();
    if (reason.length < 5 || reason.length > 2000)
      return this.perform(req, reply, id, '', async () => ({
        errors: { lineReason: 'Say how you confirmed the number receives text messages (at least 5 characters)' },
        values: { lineReason: reason },
      }));
    return this.perform(req, reply, id, 'number_allowed', async () => (await this.lines.override(ctx, id, reason), this.onboarding.get(id)));
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
    return this.perform(req, reply, id, 'contact_confirmed', () => this.review.confirmContact(ctx, id, versionOf(body)));
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
      hidden: { environment, version: String(versionOf(query) ?? r.version) },
      confirmLabel: `Yes, approve ${envName}`,
      cancelHref: `/console/requests/${id}`,
    });
  }

  @Post(':id/approve')
  @Roles('reviewer')
  approve(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    const environment = field(body, 'environment');
    if (environment !== 'acceptance' && environment !== 'production')
      return this.perform(req, reply, id, '', async () => ({ errors: { environment: 'Choose the environment to approve' } }));
    return this.perform(req, reply, id, `approved_${environment}`, () => this.review.approve(ctx, id, environment, versionOf(body)));
  }

  @Post(':id/reject')
  @Roles('reviewer')
  reject(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    const reason = field(body, 'reason').trim();
    const error =
      reason.length < 5
        ? 'Give a reason the partner will see (at least 5 characters)'
        : reason.length > 2000
          ? 'Reason must be 2000 characters or fewer'
          : null;
    if (error) return this.perform(req, reply, id, '', async () => ({ errors: { reason: error }, values: { reason } }));
    return this.perform(req, reply, id, 'rejected', () => this.review.reject(ctx, id, reason, versionOf(body)));
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
    const note = field(body, 'note').trim();
    const error =
      note.length < 5 ? 'Say what the partner must change (at least 5 characters)' : note.length > 2000 ? 'Note must be 2000 characters or fewer' : null;
    if (error) return this.perform(req, reply, id, '', async () => ({ errors: { note: error }, values: { note } }));
    return this.perform(req, reply, id, 'changes_requested', () => this.review.requestChanges(ctx, id, note, versionOf(body)));
  }

  @Post(':id/withdraw')
  @Roles('reviewer')
  withdraw(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext, @Param('id', RequestIdPipe) id: string, @Body() body: unknown) {
    const reason = field(body, 'reason').trim().slice(0, 500);
    return this.perform(req, reply, id, 'withdrawn', () => this.onboarding.withdraw(ctx, id, reason || undefined, versionOf(body)));
  }

  /**
   * Runs an action and goes back to the request (303). Refusals a reviewer can act on (four-eyes,
   * someone else was first, a missing reason) are shown on the request page itself, with their code.
   */
  private async perform(
    req: FastifyRequest,
    reply: FastifyReply,
    id: string,
    done: string,
    action: () => Promise<OnboardingRequestView | { errors: Record<string, string>; values?: Record<string, string> }>,
  ) {
    try {
      const result = await action();
      if ('errors' in result) return this.renderDetail(req, reply, await this.onboarding.get(id), { errors: result.errors, values: result.values ?? {} }, 400);
      return reply.status(303).redirect(`/console/requests/${id}?done=${done}`, 303);
    } catch (err) {
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

/** What the signed-in staff member may do now, with the reason when an approval is not theirs to give. */
export function actionsFor(r: OnboardingRequestView, staff: { staffId: string; role: 'viewer' | 'reviewer' | 'admin' }) {
  const acts = ROLE_RANK[staff.role] >= ROLE_RANK.reviewer;
  const requested = [...new Set(r.items.map((i) => i.environment))].sort();
  const live = (env: Environment) => r.approvals.some((a) => a.environment === env && a.status !== 'expired');
  const ownWork = staff.staffId === r.createdByStaffId || staff.staffId === r.lastEditedById;
  // An environment issued before a resubmission may be confirmed when it is the last decision missing.
  const confirmable = (env: Environment) =>
    r.state === 'in_review' && r.approvals.some((a) => a.environment === env && a.status === 'issued') && requested.every((e) => e === env || live(e));
  const approvals = requested
    .filter((env) => !live(env) || confirmable(env))
    .map((env) => {
      const event = r.state === 'approved' ? 'renew_approval' : 'approve';
      let blocked: string | null = null;
      if (!canTransition(r.state, event)) blocked = 'not in review';
      else if (ownWork) blocked = 'You created or last edited this request: another reviewer must approve it (four-eyes).';
      else if (!r.contact.attached && !r.contactVouchedById)
        blocked =
          'This request names a new technical contact for a known partner: a reviewer must confirm the contact first, and another reviewer approves (four-eyes).';
      else if (!r.contact.attached && r.contactVouchedById === staff.staffId)
        blocked = 'You confirmed the new technical contact: another reviewer must approve this request (four-eyes).';
      else if (env === 'production' && requested.includes('acceptance') && !live('acceptance')) blocked = 'Approve Acceptance first.';
      return { environment: env, blocked };
    })
    .filter((a) => a.blocked !== 'not in review');
  // Production access takes two different staff: whoever approved Production does not issue it.
  const issues = r.approvals
    .filter((a) => a.status === 'valid')
    .map((a) => ({
      environment: a.environment,
      blocked:
        a.environment === 'production' && a.approvedById === staff.staffId
          ? 'You approved Production: another reviewer must issue its credentials (four-eyes).'
          : null,
    }));
  return {
    any: acts,
    startReview: acts && canTransition(r.state, 'start_review'),
    confirmContact: acts && !r.contact.attached && !r.contactVouchedById && (r.state === 'submitted' || r.state === 'in_review'),
    issues: acts ? issues : [],
    approvals: acts ? approvals : [],
    reject: acts && canTransition(r.state, 'reject'),
    requestChanges: acts && canTransition(r.state, 'request_changes'),
    withdraw: acts && canTransition(r.state, 'withdraw'),
  };
}

function field(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

function versionOf(body: unknown): number | undefined {
  const v = Number(field(body, 'version'));
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
