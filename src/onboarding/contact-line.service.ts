import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { InvalidInputError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { PhoneLookup } from '../notifications/phone-lookup.js';
import { normaliseMobile } from '../partners/partner.validation.js';
import { PartnersService } from '../partners/partners.service.js';
import type { LineOverrideRow } from '../partners/line-override.repository.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { OnboardingRepository } from './onboarding.repository.js';

const VOIP = new Set(['fixedVoip', 'nonFixedVoip']);

/** What the person filling in the form reads when Lookup calls the number no mobile line. */
export function lineTypeMessage(lineType: string): string {
  if (VOIP.has(lineType)) return 'This is an internet (VoIP) number, which cannot receive our security codes reliably: enter a mobile phone number';
  if (lineType === 'landline') return 'This is a landline number: enter a mobile phone number that can receive text messages';
  if (lineType === 'unknown') return 'We could not confirm that this is a mobile number: enter a mobile phone number that can receive text messages';
  return `This number (${lineType}) cannot receive our security codes reliably: enter a mobile phone number`;
}

/**
 * The technical contact's line type (Twilio Lookup), checked where a number enters: applications and requests
 * staff enter, which is also how a partner names a new contact. The prefix check in the form's validation
 * stays; Lookup knows the real line type. Unanswered lookups do not stop an application: each SMS code is
 * checked again before it is sent, and refused there.
 */
@Injectable()
export class ContactLineService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly lookup: PhoneLookup,
    private readonly partners: PartnersService,
    private readonly repo: OnboardingRepository,
    private readonly clock: Clock,
  ) {}

  async assertReceivesCodes(mobile: string): Promise<void> {
    const verdict = await this.lookup.lineType(normaliseMobile(mobile));
    if (verdict.kind !== 'refused') return;
    const message = lineTypeMessage(verdict.lineType);
    throw new InvalidInputError('contact/line_type_refused', message, { fields: { 'contact.mobile': [message] }, lineType: verdict.lineType });
  }

  /** The request's contact: staff allowed its number for SMS codes, or not. */
  async overrideOf(requestId: string): Promise<LineOverrideRow | null> {
    const core = await this.repo.core(requestId);
    return core ? this.partners.lineOverride(core.contactId) : null;
  }

  /** Staff confirmed with the person that the request's contact number receives SMS (audited with the reason). */
  async override(ctx: RequestContext, requestId: string, reasonInput: string): Promise<void> {
    const reason = reasonInput.trim();
    if (reason.length < 5 || reason.length > 2000) {
      throw new InvalidInputError('contact/override_reason_required', 'Say how you confirmed the number receives text messages (5 to 2000 characters).', {
        fields: { reason: ['Say how you confirmed the number (at least 5 characters)'] },
      });
    }
    const core = await this.repo.core(requestId);
    const contact = core ? await this.partners.contact(core.contactId) : null;
    if (!contact) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
    const verdict = await this.lookup.lineType(contact.mobile);
    await this.prisma.transaction((tx) =>
      this.partners.overrideLineType(tx, ctx, contact, verdict.kind === 'unknown' ? null : verdict.lineType, reason, this.clock.now()),
    );
  }
}
