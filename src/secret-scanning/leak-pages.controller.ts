import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, STATUS_BY_KIND } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { LeakService, SECRET_SHAPE } from '../credentials/leak.service.js';
import { Public, Roles } from '../common/auth.decorators.js';
import { consoleNav, renderPage } from '../web/page.js';

/**
 * The answer to a public report says nothing about whether the text was a valid secret: a valid leaked
 * secret is revoked (the outcome we want whoever sends it), and anyone holding a secret could test it at
 * the token endpoint anyway; so the form is no oracle worth more than that endpoint, and is limited per IP.
 */
const SAME_ANSWER =
  'Thank you. If what you entered is one of our client secrets, it no longer works from this moment, and the organisation it belongs to has been told. We do not reply to reports.';
const SHAPE_HINT = 'Our client secrets start with cbsk_acc_ or cbsk_prd_ followed by 43 characters. Paste the whole secret.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(body: unknown, name: string, max: number): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

interface FormValues {
  url: string;
  source: string;
}

/** Reporting a leaked secret: the public form (partners, anyone), the staff form and the staff list of leak reports. */
@ApiExcludeController()
@Controller()
export class LeakPagesController {
  constructor(private readonly leaks: LeakService) {}

  @Get('report-leak')
  @Public()
  form(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'leaks/report.eta', { title: 'Report a leaked client secret', errors: {}, values: { url: '', source: '' } });
  }

  @Post('report-leak')
  @Public()
  async submit(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const secret = field(body, 'secret', 200);
    const values: FormValues = { url: field(body, 'url', 2000), source: field(body, 'source', 300) };
    const again = (errors: Record<string, string>, status: number) =>
      renderPage(req, reply, 'leaks/report.eta', { title: 'Report a leaked client secret', errors, values }, status);
    if (!SECRET_SHAPE.test(secret)) return again({ secret: secret ? SHAPE_HINT : 'Paste the secret you found.' }, 400);
    try {
      await this.leaks.countPublicReport(ctx.clientIp);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return again({ secret: err.message }, STATUS_BY_KIND[err.kind]);
    }
    await this.leaks.report(ctx, 'partner_form', [{ token: secret, url: values.url, source: values.source }]);
    return renderPage(req, reply, 'leaks/reported.eta', { title: 'Report received', message: SAME_ANSWER });
  }

  @Get('console/leaks')
  @Roles('viewer')
  async list(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('credentialId') credentialId?: string) {
    const filter = typeof credentialId === 'string' && UUID.test(credentialId) ? credentialId : undefined;
    return renderPage(req, reply, 'leaks/list.eta', {
      title: 'Leaked secrets',
      nav: consoleNav(req, '/console/leaks'),
      rows: await this.leaks.list({ credentialId: filter }),
      credentialId: filter ?? null,
      canReport: req.staff!.role !== 'viewer',
    });
  }

  @Get('console/leaks/report')
  @Roles('reviewer')
  staffForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'leaks/staff-report.eta', {
      title: 'Report a leaked secret',
      nav: consoleNav(req, '/console/leaks'),
      errors: {},
      values: { url: '', source: '' },
      result: null,
    });
  }

  /** Staff see the outcome: they may know whether it was one of ours. */
  @Post('console/leaks/report')
  @Roles('reviewer')
  async staffSubmit(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const secret = field(body, 'secret', 200);
    const values: FormValues = { url: field(body, 'url', 2000), source: field(body, 'source', 300) };
    const page = (data: Record<string, unknown>, status = 200) =>
      renderPage(
        req,
        reply,
        'leaks/staff-report.eta',
        { title: 'Report a leaked secret', nav: consoleNav(req, '/console/leaks'), errors: {}, values, result: null, ...data },
        status,
      );
    if (!SECRET_SHAPE.test(secret)) return page({ errors: { secret: secret ? SHAPE_HINT : 'Paste the secret that leaked.' } }, 400);
    const [verdict] = await this.leaks.report(ctx, 'staff', [{ token: secret, url: values.url, source: values.source }]);
    return page({ values: { url: '', source: '' }, result: verdict });
  }
}
