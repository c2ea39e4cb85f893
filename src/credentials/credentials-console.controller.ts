import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock.js';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, InvalidInputError, STATUS_BY_KIND, hasErrorCode } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import type { CredentialState, Environment } from '../generated/prisma/enums.js';
import { ROLE_RANK, Roles } from '../common/auth.decorators.js';
import { ageOf } from '../web/age.js';
import { renderConfirmPage } from '../web/confirm-page.js';
import { consoleNav, renderPage } from '../web/page.js';
import { revokeConfirmation } from './credentials-confirm.controller.js';
import { UuidPipe } from './credential-id.pipe.js';
import { CatalogueService } from './catalogue.service.js';
import { CredentialsService } from './credentials.service.js';
import { RotationOverlapService } from './rotation-overlap.service.js';
import { RotationService } from './rotation.service.js';

const NAV = '/console/credentials';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(body: unknown, name: string, max = 500): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

/** The credential a rotation form came from: its page is where the answer goes. */
function credentialIdFrom(body: unknown): string {
  const id = field(body, 'credentialId', 40);
  if (!UUID.test(id))
    throw new InvalidInputError('request/validation_failed', 'credentialId is missing.', { fields: { credentialId: ['credentialId must be a UUID'] } });
  return id;
}

function fieldErrors(err: DomainError, fallbackField: string): Record<string, string> {
  const fields = (err.details?.fields ?? {}) as Record<string, string[] | string>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = Array.isArray(v) ? v[0] : String(v);
  if (!Object.keys(out).length) out[fallbackField] = err.message;
  return out;
}

/** The staff pages for credentials and the API catalogue; every action is also under /api. */
@ApiExcludeController()
@Controller('console')
export class CredentialsConsoleController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly apiCatalogue: CatalogueService,
    private readonly rotation: RotationService,
    private readonly overlap: RotationOverlapService,
    private readonly clock: Clock,
  ) {}

  // ---------------------------------------------------------------- catalogue
  @Get('catalogue')
  @Roles('viewer')
  async catalogue(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('saved') saved?: string) {
    return this.renderCatalogue(req, reply, { saved: saved === '1' });
  }

  @Post('catalogue/:id')
  @Roles('admin')
  async saveCatalogue(
    @Param('id', UuidPipe) id: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
  ) {
    try {
      await this.apiCatalogue.updateCatalogueEntry(ctx, id, { baseUrl: field(body, 'baseUrl', 300), audience: field(body, 'audience', 300) });
      return reply.status(303).redirect('/console/catalogue?saved=1');
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind === 'not_found') throw err;
      return this.renderCatalogue(
        req,
        reply,
        { editing: id, errors: fieldErrors(err, 'baseUrl'), values: { baseUrl: field(body, 'baseUrl', 300), audience: field(body, 'audience', 300) } },
        STATUS_BY_KIND[err.kind],
      );
    }
  }

  private async renderCatalogue(req: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown>, status = 200) {
    return renderPage(
      req,
      reply,
      'catalogue/index.eta',
      {
        title: 'API catalogue',
        nav: consoleNav(req, '/console/catalogue'),
        entries: await this.apiCatalogue.catalogue(),
        canEdit: req.staff!.role === 'admin',
        issuers: { acceptance: this.apiCatalogue.issuerUrl('acceptance'), production: this.apiCatalogue.issuerUrl('production') },
        errors: {},
        ...extra,
      },
      status,
    );
  }

  // ---------------------------------------------------------------- credentials
  @Get('credentials')
  @Roles('viewer')
  async list(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    const str = (k: string, max = 100) => (typeof query[k] === 'string' ? query[k].trim().slice(0, max) : '');
    const catalogue = await this.apiCatalogue.catalogue();
    const apis = [...new Map(catalogue.map((c) => [c.apiKey, c.apiName])).entries()].map(([key, name]) => ({ key, name }));
    const filter = {
      q: str('q'),
      environment: ['acceptance', 'production'].includes(str('environment')) ? (str('environment') as Environment) : undefined,
      state: ['pending_delivery', 'active', 'revoked'].includes(str('state')) ? (str('state') as CredentialState) : undefined,
      api: apis.some((a) => a.key === str('api')) ? str('api') : undefined,
      partnerId: UUID.test(str('partnerId')) ? str('partnerId') : undefined,
      sort: str('sort') === 'oldest' ? ('oldest' as const) : undefined,
    };
    const rows = await this.credentials.list({ ...filter, apiKey: filter.api, q: filter.q || undefined, limit: 200 });
    return renderPage(req, reply, 'credentials/list.eta', {
      title: 'Credentials',
      nav: consoleNav(req, NAV),
      filter,
      apis,
      rows,
      canIssue: ROLE_RANK[req.staff!.role] >= ROLE_RANK.reviewer,
      revokedCount: /^\d{1,4}$/.test(str('revoked')) ? Number(str('revoked')) : null,
      errors: str('error') === 'reason' ? { reason: 'Say why you revoke (at least 3 characters)' } : {},
      age: (since: Date) => ageOf(since, this.clock.now()),
    });
  }

  @Post('partners/:partnerId/credentials/revoke')
  @Roles('reviewer')
  async revokePartner(
    @Param('partnerId', UuidPipe) partnerId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
  ) {
    const reason = field(body, 'reason');
    if (reason.length < 3) return reply.status(303).redirect(`/console/credentials?partnerId=${partnerId}&error=reason`);
    const { revoked } = await this.credentials.revokeAllOfPartner(ctx, partnerId, reason);
    return reply.status(303).redirect(`/console/credentials?partnerId=${partnerId}&revoked=${revoked.length}`);
  }

  @Get('credentials/issue')
  @Roles('reviewer')
  async issueForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderIssue(req, reply, {});
  }

  @Post('credentials/issue')
  @Roles('reviewer')
  async issue(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const requestId = field(body, 'requestId', 40);
    const environment = field(body, 'environment', 20);
    if (!UUID.test(requestId) || !['acceptance', 'production'].includes(environment)) {
      return this.renderIssue(req, reply, { issue: 'Choose an approval to issue credentials for.' }, 400);
    }
    try {
      const result = await this.credentials.issue(ctx, requestId, environment as Environment);
      return renderPage(req, reply, 'credentials/issued.eta', { title: 'Credentials issued', nav: consoleNav(req, NAV), result });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return this.renderIssue(req, reply, { issue: err.message }, STATUS_BY_KIND[err.kind]);
    }
  }

  private async renderIssue(req: FastifyRequest, reply: FastifyReply, errors: Record<string, string>, status = 200) {
    return renderPage(
      req,
      reply,
      'credentials/issue.eta',
      { title: 'Issue credentials', nav: consoleNav(req, NAV), approvals: await this.credentials.listIssuable(), errors },
      status,
    );
  }

  @Get('credentials/:id')
  @Roles('viewer')
  async detail(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done?: string) {
    return this.renderDetail(req, reply, id, { done: typeof done === 'string' ? done.slice(0, 30) : '' });
  }

  @Post('credentials/:id/revoke')
  @Roles('reviewer')
  async revoke(@Param('id', UuidPipe) id: string, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const reason = field(body, 'reason');
    // A refusal goes back to the confirmation page the POST came from, with the reason kept.
    const again = async (message: string, status: number) =>
      renderConfirmPage(req, reply, consoleNav(req, NAV), revokeConfirmation(await this.credentials.detail(id), reason), { reason: message }, status);
    if (reason.length < 3) return again('Say why you revoke (at least 3 characters)', 400);
    try {
      await this.credentials.revoke(ctx, id, reason);
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind === 'not_found') throw err;
      return again(err.message, STATUS_BY_KIND[err.kind]);
    }
    return reply.status(303).redirect(`/console/credentials/${id}?done=revoked`);
  }

  @Post('credentials/:id/rotations')
  @Roles('reviewer')
  async startRotation(
    @Param('id', UuidPipe) id: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
  ) {
    const raw = field(body, 'overlapDays', 5);
    const supersede = field(body, 'supersede', 5) === '1';
    return this.act(req, reply, id, 'overlapDays', 'rotation_started', () => this.rotation.start(ctx, id, raw === '' ? undefined : Number(raw), supersede));
  }

  @Post('rotations/:rotationId/cancel')
  @Roles('reviewer')
  async cancelRotation(
    @Param('rotationId', UuidPipe) rotationId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
  ) {
    const id = credentialIdFrom(body);
    return this.act(req, reply, id, 'rotation', 'rotation_cancelled', () => this.rotation.cancel(ctx, rotationId, field(body, 'reason')));
  }

  @Post('credentials/:id/early-end-request')
  @Roles('reviewer')
  async requestEarlyEnd(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    return this.act(req, reply, id, 'overlap', 'early_end_requested', () => this.overlap.requestEarlyEnd(ctx, id));
  }

  @Post('rotations/:rotationId/approve')
  @Roles('reviewer')
  async approveRotation(
    @Param('rotationId', UuidPipe) rotationId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Ctx() ctx: RequestContext,
  ) {
    const id = credentialIdFrom(body);
    return this.act(req, reply, id, 'rotation', 'rotation_approved', () => this.rotation.approve(ctx, rotationId));
  }

  @Post('credentials/:id/end-overlap')
  @Roles('reviewer')
  async endOverlap(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    return this.act(req, reply, id, 'overlap', 'overlap_ended', () => this.overlap.endOverlap(ctx, id));
  }

  @Post('credentials/:id/redeliver')
  @Roles('reviewer')
  async redeliver(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    return this.act(req, reply, id, 'redeliver', 'redelivered', () => this.rotation.redeliver(ctx, id));
  }

  private async act(req: FastifyRequest, reply: FastifyReply, id: string, errorField: string, done: string, fn: () => Promise<unknown>) {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof DomainError) || hasErrorCode(err, 'credential/not_found')) throw err;
      return this.renderDetail(req, reply, id, { errors: fieldErrors(err, errorField) }, STATUS_BY_KIND[err.kind]);
    }
    return reply.status(303).redirect(`/console/credentials/${id}?done=${done}`);
  }

  private async renderDetail(req: FastifyRequest, reply: FastifyReply, id: string, extra: Record<string, unknown>, status = 200) {
    const c = await this.credentials.detail(id);
    const deliveries = await this.credentials.deliveryStatus(c.secrets.map((s) => s.id));
    const rotations = await this.rotation.rotations(id);
    return renderPage(
      req,
      reply,
      'credentials/detail.eta',
      {
        title: `Credential ${c.clientId}`,
        nav: consoleNav(req, NAV),
        c,
        deliveries: Object.fromEntries(deliveries.map((d) => [d.subjectId, d])),
        issuer: this.apiCatalogue.issuerUrl(c.environment),
        overlap: this.overlap.overlapOf(c, rotations),
        rotations,
        defaultOverlapDays: this.credentials.defaultOverlapDays,
        quietHours: this.overlap.quietHours,
        canAct: ROLE_RANK[req.staff!.role] >= ROLE_RANK.reviewer,
        errors: {},
        ...extra,
      },
      status,
    );
  }
}
