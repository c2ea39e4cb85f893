import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock.js';
import { Roles } from '../common/auth.decorators.js';
import { NotificationsService, ATTENTION_DAYS, QUEUED_TOO_LONG_MINUTES } from '../notifications/notifications.service.js';
import { ageOf } from '../web/age.js';
import { consoleNav, renderPage } from '../web/page.js';

const NAV = '/console/notifications';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS = ['failed', 'unknown', 'stuck'] as const;
type Kind = (typeof KINDS)[number];

/** Where staff act on a message's subject, for the subjects that have a console page. */
function subjectHref(type: string | null, id: string | null): string | null {
  if (!type || !id || !UUID.test(id)) return null;
  if (type === 'credential') return `/console/credentials/${id}`;
  if (type === 'onboarding_request') return `/console/requests/${id}`;
  if (type === 'staff_account') return `/console/staff/${id}`;
  return null;
}

/**
 * Email and SMS that need a person: failed for good, outcome unknown, or queued too long. Only what the
 * notification row keeps in the clear (template, channel, masked recipient, status, provider reason): the
 * sealed payload (address, link, code) is never read here.
 */
@ApiExcludeController()
@Controller('console')
export class NotificationsPageController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly clock: Clock,
  ) {}

  @Get('notifications')
  @Roles('viewer')
  async list(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, unknown>) {
    const str = (k: string, max = 100) => (typeof query[k] === 'string' ? query[k].trim().slice(0, max) : '');
    const status = (KINDS as readonly string[]).includes(str('status')) ? (str('status') as Kind) : '';
    const channel = str('channel') === 'email' || str('channel') === 'sms' ? (str('channel') as 'email' | 'sms') : '';
    const subjectType = /^[a-z_]{1,40}$/.test(str('subjectType')) ? str('subjectType') : '';
    const subjectId = subjectType && UUID.test(str('subjectId')) ? str('subjectId') : '';
    const now = this.clock.now();
    const rows = await this.notifications.needingAttention(
      { kinds: status ? [status] : [...KINDS], channel: channel || undefined, subjectType: subjectType || undefined, subjectId: subjectId || undefined },
      now,
    );
    return renderPage(req, reply, 'console/notifications.eta', {
      title: 'Messages that need attention',
      nav: consoleNav(req, NAV),
      filter: { status, channel, subjectType, subjectId },
      filtered: Boolean(status || channel || subjectType),
      rows: rows.map((n) => ({
        ...n,
        kind: n.status === 'queued' || n.status === 'sending' ? 'stuck' : n.status,
        age: ageOf(n.createdAt, now),
        subjectHref: subjectHref(n.subjectType, n.subjectId),
      })),
      attentionDays: ATTENTION_DAYS,
      queuedMinutes: QUEUED_TOO_LONG_MINUTES,
    });
  }
}
