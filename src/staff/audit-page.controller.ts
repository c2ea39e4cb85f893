import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUDIT_CATEGORIES, SUBJECT_TYPES, actionsIn } from '../audit/audit-actions.js';
import { AuditQueryDto } from '../audit/audit.dto.js';
import { AuditService } from '../audit/audit.service.js';
import { PartnersService } from '../partners/partners.service.js';
import { consoleNav, renderPage } from '../web/page.js';
import { auditRows, type ActorNames } from './audit-rows.js';
import { Roles } from '../common/auth.decorators.js';
import { validateForm } from '../common/form.js';
import { StaffService } from './staff.service.js';

const PAGE = 50;
/** What the form shows as selects and dates; the rest (subject id, action, correlation id) arrive from links in rows. */
const FILTERS = ['category', 'actor', 'subjectType', 'subjectId', 'action', 'correlationId', 'from', 'to'] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTOR_TYPES = ['system', 'partner_contact', 'api_client'];

/** The console's view of the audit trail (the JSON twin is GET /api/audit-events). */
@ApiExcludeController()
@Controller('console/audit')
export class AuditPageController {
  constructor(
    private readonly audit: AuditService,
    private readonly staff: StaffService,
    private readonly partners: PartnersService,
  ) {}

  @Get()
  @Roles('viewer')
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    // An empty form field means "no filter", not "match the empty string". `actorId` is the older link form of `actor`.
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(query ?? {})) {
      if (typeof v === 'string' && v.trim() !== '' && ([...FILTERS, 'before', 'actorId'] as string[]).includes(k)) raw[k] = v.trim().slice(0, 200);
    }
    if (raw.actorId && !raw.actor) raw.actor = `staff:${raw.actorId}`;
    const form = Object.fromEntries(FILTERS.map((k) => [k, raw[k] ?? ''])) as Record<(typeof FILTERS)[number], string>;
    const errors: Record<string, string> = {};
    if (form.category && !(form.category in AUDIT_CATEGORIES)) errors.category = 'Choose a kind of event from the list';
    const actor = parseActor(form.actor);
    if (form.actor && !actor) errors.actor = 'Choose who from the list';
    if (form.from && !DATE.test(form.from)) errors.from = 'From must be a date, like 2026-12-31';
    if (form.to && !DATE.test(form.to)) errors.to = 'To must be a date, like 2026-12-31';
    if (!errors.from && !errors.to && form.from && form.to && form.from > form.to) errors.to = 'To must be the same day as From or later';
    const dto = {
      subjectType: form.subjectType || undefined,
      subjectId: form.subjectId || undefined,
      action: form.action || undefined,
      correlationId: form.correlationId || undefined,
      actorId: actor?.id,
      from: form.from && !errors.from ? `${form.from}T00:00:00Z` : undefined,
      // The form's "to" day is inclusive; the query's bound is exclusive.
      to: form.to && !errors.to ? nextDay(form.to) : undefined,
      before: raw.before,
    };
    const checked = await validateForm(AuditQueryDto, Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined)));
    if (!checked.ok) for (const [k, v] of Object.entries(friendly(checked.errors))) errors[k] = errors[k] ?? v;

    const members = await this.staff.list();
    let rows: ReturnType<typeof auditRows> = [];
    let older: string | null = null;
    if (checked.ok && !Object.keys(errors).length) {
      const page = await this.audit.search(checked.value, PAGE, { actions: form.category ? actionsIn(form.category) : undefined, actorType: actor?.type });
      rows = auditRows(page.events, await this.actorNames(page.events, members));
      if (page.nextBefore) {
        const params = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
        params.set('before', page.nextBefore);
        older = `/console/audit?${params.toString()}`;
      }
    }
    const filtered = Object.values(form).some((v) => v !== '');
    return renderPage(
      req,
      reply,
      'staff/audit.eta',
      {
        title: 'Audit trail',
        nav: consoleNav(req, '/console/audit'),
        form,
        errors,
        events: rows,
        older,
        paged: !!raw.before,
        filtered,
        categories: Object.entries(AUDIT_CATEGORIES),
        subjectTypes: Object.entries(SUBJECT_TYPES),
        actors: [
          ['system', 'The service itself (system)'],
          ['partner_contact', 'Any partner contact'],
          ['api_client', 'Any API client'],
          ...members.map((m) => [`staff:${m.id}`, `${m.name} (${m.email})`]),
        ],
      },
      Object.keys(errors).length ? 400 : 200,
    );
  }

  /** Names for the page's actors: staff by id, partner contacts looked up one by one (a page holds at most 50). */
  private async actorNames(
    events: Array<{ actorType: string; actorId: string | null }>,
    members: Array<{ id: string; name: string; email: string }>,
  ): Promise<ActorNames> {
    const staff = new Map(members.map((m) => [m.id, `${m.name} (${m.email})`]));
    const contacts = new Map<string, string>();
    const contactIds = [...new Set(events.filter((e) => e.actorType === 'partner_contact' && e.actorId && UUID.test(e.actorId)).map((e) => e.actorId!))];
    for (const id of contactIds) {
      const c = await this.partners.contact(id);
      if (c) contacts.set(id, c.name);
    }
    return { staff, contacts };
  }
}

function parseActor(v: string): { type: string; id?: string } | null {
  if (!v) return null;
  if (ACTOR_TYPES.includes(v)) return { type: v };
  const m = /^staff:([0-9a-f-]{36})$/i.exec(v);
  return m && UUID.test(m[1]) ? { type: 'staff', id: m[1] } : null;
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

function friendly(errors: Record<string, string>): Record<string, string> {
  const text: Record<string, string> = {
    actorId: 'Choose who from the list',
    action: 'That action filter is not valid; clear the filters and start again',
    correlationId: 'A correlation id is 8 to 128 letters, digits, dots, colons, dashes or underscores',
    subjectType: 'Choose a subject type from the list',
    subjectId: 'That subject filter is not valid; clear the filters and start again',
    before: 'The page cursor is not valid; start from the newest events',
  };
  return Object.fromEntries(Object.keys(errors).map((k) => [k === 'actorId' ? 'actor' : k, text[k] ?? errors[k]]));
}
