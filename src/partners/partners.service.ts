import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { RequestContext } from '../common/request-context.js';
import type { Tx } from '../prisma/prisma.service.js';
import { LineOverrideRepository, type LineOverrideRow } from './line-override.repository.js';
import { normaliseEmail, normaliseMobile, normaliseRegistrationNumber } from './partner.validation.js';
import { PartnersRepository } from './partners.repository.js';
import type { ContactInput, ContactView, PartnerInput, PartnerView } from './partners.types.js';

@Injectable()
export class PartnersService {
  constructor(
    private readonly repo: PartnersRepository,
    private readonly overrides: LineOverrideRepository,
    private readonly audit: AuditService,
  ) {}

  /** Staff allowed this contact's number for SMS codes although Lookup calls it no mobile line; null if not. */
  lineOverride(contactId: string, tx?: Tx): Promise<LineOverrideRow | null> {
    return this.overrides.find(contactId, tx);
  }

  /** Staff checked with the person that the number receives SMS (audited with their reason). */
  async overrideLineType(tx: Tx, ctx: RequestContext, contact: ContactView, lineType: string | null, reason: string, now: Date): Promise<void> {
    if (ctx.actor.type !== 'staff' || !ctx.actor.id) throw new Error('only staff override a line type');
    await this.overrides.put(tx, { contactId: contact.id, lineType, reason, staffId: ctx.actor.id }, now);
    await this.audit.record(tx, ctx, {
      action: 'technical_contact.line_type_overridden',
      subjectType: 'partner',
      subjectId: contact.partnerId,
      detail: { contactId: contact.id, lineType, reason },
    });
  }

  /**
   * The partner (reused when the same registration number + country applies again; its recorded
   * name is not overwritten by an application) and the technical contact, inside the caller's transaction.
   * A contact that an application adds to an already known partner is recorded but not attached: it
   * becomes one of the partner's contacts only through `attach`, after a second reviewer agreed.
   */
  async register(
    tx: Tx,
    ctx: RequestContext,
    partnerIn: PartnerInput,
    contactIn: ContactInput,
    now: Date,
  ): Promise<{ partner: PartnerView; contact: ContactView; partnerCreated: boolean; contactCreated: boolean }> {
    const { partner, created } = await this.repo.findOrCreatePartner(tx, {
      legalName: partnerIn.legalName.trim(),
      registrationNumber: normaliseRegistrationNumber(partnerIn.registrationNumber),
      country: partnerIn.country.trim().toUpperCase(),
      businessRepresentative: partnerIn.businessRepresentative?.trim() || null,
    });
    if (created) {
      await this.audit.record(tx, ctx, { action: 'partner.created', subjectType: 'partner', subjectId: partner.id, detail: { country: partner.country } });
    }
    const { contact, created: contactCreated } = await this.repo.findOrCreateContact(
      tx,
      partner.id,
      { name: contactIn.name.trim(), email: normaliseEmail(contactIn.email), mobile: normaliseMobile(contactIn.mobile), language: contactIn.language },
      created ? now : null,
    );
    if (contactCreated) {
      await this.audit.record(tx, ctx, {
        action: 'technical_contact.created',
        subjectType: 'partner',
        subjectId: partner.id,
        detail: { contactId: contact.id },
      });
    }
    return { partner, contact, partnerCreated: created, contactCreated };
  }

  /** A waiting contact becomes one of its partner's contacts (audited); false when it already was. */
  async attach(tx: Tx, ctx: RequestContext, contact: ContactView, now: Date, detail: Record<string, unknown>): Promise<boolean> {
    if (!(await this.repo.attachContact(tx, contact.id, now))) return false;
    await this.audit.record(tx, ctx, {
      action: 'technical_contact.attached',
      subjectType: 'partner',
      subjectId: contact.partnerId,
      detail: { contactId: contact.id, ...detail },
    });
    return true;
  }

  partner(id: string, tx?: Tx): Promise<PartnerView | null> {
    return this.repo.partner(id, tx);
  }

  contact(id: string, tx?: Tx): Promise<ContactView | null> {
    return this.repo.contact(id, tx);
  }

  contactsOf(partnerId: string): Promise<ContactView[]> {
    return this.repo.contactsOf(partnerId);
  }
}
