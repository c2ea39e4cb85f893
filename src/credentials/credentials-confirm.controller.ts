import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../common/auth.decorators.js';
import { renderConfirmPage, type ConfirmPage } from '../web/confirm-page.js';
import { consoleNav } from '../web/page.js';
import { UuidPipe } from './credential-id.pipe.js';
import { CredentialsService } from './credentials.service.js';
import type { CredentialDetail } from './credentials.types.js';
import { RotationOverlapService } from './rotation-overlap.service.js';
import { RotationService } from './rotation.service.js';

const NAV = '/console/credentials';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const when = (iso: string | Date | null | undefined) => (iso ? new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null);
const envName = (e: string) => (e === 'production' ? 'Production' : 'Acceptance');

/** What revoking this credential does, in words; the POST re-renders it when the reason is missing. */
export function revokeConfirmation(c: CredentialDetail, reason = ''): ConfirmPage {
  return {
    title: 'Revoke this credential?',
    heading: `Revoke ${c.partnerName}'s ${c.apiName} credential in ${envName(c.environment)}?`,
    consequences: [
      `${c.partnerName} can no longer get tokens with client_id ${c.clientId}: every secret of it stops working at once, on every instance, and tokens already issued are reported inactive.`,
      'To give them access again, they need a new onboarding approval and new credentials.',
    ],
    facts: [
      ['Partner', c.partnerName],
      ['API', `${c.apiName} (${envName(c.environment)})`],
      ['client_id', c.clientId],
    ],
    destructive: true,
    action: `/console/credentials/${c.id}/revoke`,
    reason: { label: 'Why are you revoking it? (kept in the audit trail)', value: reason },
    confirmLabel: 'Yes, revoke this credential',
    cancelHref: `/console/credentials/${c.id}`,
  };
}

/** The "are you sure" pages before credential actions that cannot be undone. */
@ApiExcludeController()
@Controller('console')
export class CredentialsConfirmController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly rotation: RotationService,
    private readonly overlap: RotationOverlapService,
  ) {}

  @Get('credentials/issue/confirm')
  @Roles('reviewer')
  async confirmIssue(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('requestId') requestId?: string,
    @Query('environment') environment?: string,
  ) {
    const approval = UUID.test(String(requestId ?? ''))
      ? (await this.credentials.listIssuable()).find((a) => a.requestId === requestId && a.environment === environment)
      : undefined;
    if (!approval) {
      return reply.status(303).redirect('/console/credentials/issue');
    }
    const apis = approval.items.map((i) => i.apiName).join(', ');
    return renderConfirmPage(req, reply, consoleNav(req, NAV), {
      title: 'Issue credentials?',
      heading: `Issue ${envName(approval.environment)} credentials for ${approval.reference}?`,
      consequences: [
        `This creates ${approval.items.length} credential${approval.items.length === 1 ? '' : 's'} for ${approval.partnerName} in ${envName(approval.environment)} (${apis}).`,
        "Each secret goes to the request's technical contact at once: a one-time link by email and a code by SMS. The approval is used up and cannot be issued again.",
        ...(approval.environment === 'production' ? ['Production credentials reach live partner systems.'] : []),
      ],
      facts: [
        ['Request', approval.reference],
        ['Partner', approval.partnerName],
        ['APIs', apis],
      ],
      destructive: approval.environment === 'production',
      warningText: 'Once sent, the secrets cannot be called back; only revoked.',
      action: '/console/credentials/issue',
      hidden: { requestId: approval.requestId, environment: approval.environment },
      confirmLabel: `Yes, issue ${envName(approval.environment)} credentials`,
      cancelHref: `/console/requests/${approval.requestId}`,
    });
  }

  @Get('credentials/:id/revoke')
  @Roles('reviewer')
  async confirmRevoke(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const c = await this.credentials.detail(id);
    if (c.state === 'revoked') return reply.status(303).redirect(`/console/credentials/${id}`);
    return renderConfirmPage(req, reply, consoleNav(req, NAV), revokeConfirmation(c));
  }

  @Get('credentials/:id/end-overlap')
  @Roles('reviewer')
  async confirmEndOverlap(@Param('id', UuidPipe) id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const c = await this.credentials.detail(id);
    const o = this.overlap.overlapOf(c, await this.rotation.rotations(id));
    if (!o.inOverlap) return reply.status(303).redirect(`/console/credentials/${id}`);
    return renderConfirmPage(req, reply, consoleNav(req, NAV), {
      title: 'End the overlap now?',
      heading: `End the overlap for ${c.partnerName}'s ${c.apiName} credential now?`,
      consequences: [
        `The old secret stops working at once; only the new secret works from now on. Any ${c.partnerName} system still using the old secret can no longer get tokens.`,
        o.switched ? 'The partner has switched to the new secret.' : 'The partner has not switched to the new secret yet.',
        ...(o.quietEnough ? [] : ['The old secret has not been quiet long enough: ending now is recorded as an override of the waiting time.']),
      ],
      facts: [
        ['client_id', c.clientId],
        ['Old secret last used', when(o.oldLastUsedAt) ?? 'not since the new one'],
        ['New secret last used', when(o.newLastUsedAt) ?? 'not yet'],
        ['Overlap would end by itself', when(o.endsAt) ?? '—'],
      ],
      destructive: true,
      action: `/console/credentials/${id}/end-overlap`,
      confirmLabel: 'Yes, end the overlap now',
      cancelHref: `/console/credentials/${id}`,
    });
  }
}
