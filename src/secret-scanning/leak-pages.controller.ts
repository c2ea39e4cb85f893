import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, STATUS_BY_KIND } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { LeakService } from '../credentials/leak.service.js';
import { formText, readForm } from '../common/form.js';
import { ReportLeakDto } from './leak-report.dto.js';
import { Public, Roles } from '../common/auth.decorators.js';
import { consoleNav, renderPage } from '../web/page.js';

/**
 * The answer to a public report says nothing about whether the text was a valid secret: a valid leaked
 * secret is revoked (the outcome we want whoever sends it), and anyone holding a secret could test it at
 * the token endpoint anyway; so the form is no oracle worth more than that endpoint, and is limited per IP.
 */
const SAME_ANSWER =
  'Thank you. If what you entered is one of our client secrets, it no longer works from this moment, and the organisation it belongs to has been told. We do not reply to reports.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A blank secret is asked for in the page's own words; any other problem is the DTO's. */
async function readReport(body: unknown, blank: string) {
  const form = await readForm(ReportLeakDto, body);
  if (!form.ok && !formText(body, 'secret')) form.errors.secret = blank;
  return form;
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
    const values: FormValues = { url: formText(body, 'url', 2000), source: formText(body, 'source', 300) };
    const again = (errors: Record<string, string>, status: number) =>
      renderPage(req, reply, 'leaks/report.eta', { title: 'Report a leaked client secret', errors, values }, status);
    const form = await readReport(body, 'Paste the secret you found.');
    if (!form.ok) return again(form.errors, 400);
    const { secret, url = '', source = '' } = form.value;
    try {
      await this.leaks.countPublicReport(ctx.clientIp);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return again({ secret: err.message }, STATUS_BY_KIND[err.kind]);
    }
    await this.leaks.report(ctx, 'partner_form', [{ token: secret, url, source }]);
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
    const values: FormValues = { url: formText(body, 'url', 2000), source: formText(body, 'source', 300) };
    const page = (data: Record<string, unknown>, status = 200) =>
      renderPage(
        req,
        reply,
        'leaks/staff-report.eta',
        { title: 'Report a leaked secret', nav: consoleNav(req, '/console/leaks'), errors: {}, values, result: null, ...data },
        status,
      );
    const form = await readReport(body, 'Paste the secret that leaked.');
    if (!form.ok) return page({ errors: form.errors }, 400);
    const { secret, url = '', source = '' } = form.value;
    const [verdict] = await this.leaks.report(ctx, 'staff', [{ token: secret, url, source }]);
    return page({ values: { url: '', source: '' }, result: verdict });
  }
}
