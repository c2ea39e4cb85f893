import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditQueryDto } from '../audit/audit.dto.js';
import { AuditService } from '../audit/audit.service.js';
import { consoleNav, renderPage } from '../web/page.js';
import { Roles } from '../common/auth.decorators.js';
import { validateForm } from './form.js';

const PAGE = 50;
const FILTERS = ['subjectType', 'subjectId', 'actorId', 'action', 'correlationId', 'from', 'to'] as const;

/** The console's view of the audit trail (the JSON twin is GET /api/audit-events). */
@ApiExcludeController()
@Controller('console/audit')
export class AuditPageController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('viewer')
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    // An empty form field means "no filter", not "match the empty string".
    const raw = Object.fromEntries(Object.entries(query ?? {}).filter(([k, v]) => (FILTERS as readonly string[]).concat('before').includes(k) && typeof v === 'string' && v.trim() !== ''));
    const { value, errors } = await validateForm(AuditQueryDto, raw);
    const form = Object.fromEntries(FILTERS.map((k) => [k, typeof raw[k] === 'string' ? (raw[k]) : '']));
    let events: Awaited<ReturnType<AuditService['search']>>['events'] = [];
    let older: string | null = null;
    if (!Object.keys(errors).length) {
      const page = await this.audit.search(value, PAGE);
      events = page.events;
      if (page.nextBefore) {
        const params = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
        params.set('before', page.nextBefore);
        older = `/console/audit?${params.toString()}`;
      }
    }
    const rows = events.map((e) => ({ ...e, detailText: detailText(e.detail) }));
    return renderPage(
      req,
      reply,
      'staff/audit.eta',
      { title: 'Audit trail', nav: consoleNav(req, '/console/audit'), form, errors: friendly(errors), events: rows, older, paged: !!value.before },
      Object.keys(errors).length ? 400 : 200,
    );
  }
}

/** `key: value` pairs read better in a table cell than raw JSON. */
function detailText(detail: unknown): string {
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return JSON.stringify(detail);
  return Object.entries(detail as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

function friendly(errors: Record<string, string>): Record<string, string> {
  const text: Record<string, string> = {
    actorId: 'Actor must be a staff or contact id (a UUID)',
    action: 'Action looks like onboarding.approved (lower case, dots)',
    correlationId: 'A correlation id is 8 to 128 letters, digits, dots, colons, dashes or underscores',
    from: 'From must be a date and time',
    to: 'To must be a date and time',
    before: 'The page cursor is not valid; start from the newest events',
  };
  return Object.fromEntries(Object.keys(errors).map((k) => [k, text[k] ?? errors[k]]));
}
