import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { ContactInput, ContactView, PartnerInput, PartnerView } from './partners.types.js';

@Injectable()
export class PartnersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One row per (registration number, country), even when two applications arrive at once. */
  async findOrCreatePartner(tx: Tx, input: PartnerInput): Promise<{ partner: PartnerView; created: boolean }> {
    const inserted = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO partner (id, legal_name, registration_number, country, business_representative)
      VALUES (${randomUUID()}::uuid, ${input.legalName}, ${input.registrationNumber}, ${input.country}, ${input.businessRepresentative ?? null})
      ON CONFLICT (registration_number, country) DO NOTHING RETURNING id::text AS id`;
    // Row-locked for the rest of the transaction, so concurrent applications of one partner find or
    // create its contact one after the other (no duplicate contacts).
    const [row] = await tx.$queryRaw<PartnerView[]>`
      SELECT id::text AS id, legal_name AS "legalName", registration_number AS "registrationNumber", country::text AS country,
        business_representative AS "businessRepresentative"
      FROM partner WHERE registration_number = ${input.registrationNumber} AND country = ${input.country} FOR NO KEY UPDATE`;
    return { partner: toPartner(row), created: inserted.length === 1 };
  }

  /**
   * A contact is reused only when name-independent facts match exactly (email and mobile), so an
   * application can never change the number an existing contact receives SMS codes on.
   */
  async findOrCreateContact(tx: Tx, partnerId: string, input: ContactInput, attachedAt: Date | null): Promise<{ contact: ContactView; created: boolean }> {
    const existing = await tx.technicalContact.findFirst({
      where: { partnerId, email: { equals: input.email, mode: 'insensitive' }, mobile: input.mobile },
      orderBy: { createdAt: 'asc' },
    });
    if (existing) return { contact: toContact(existing), created: false };
    const row = await tx.technicalContact.create({ data: { id: randomUUID(), partnerId, ...input, attachedAt } });
    return { contact: toContact(row), created: true };
  }

  /** Attaches a waiting contact to its partner, once: true only for the call that attached it. */
  async attachContact(tx: Tx, contactId: string, now: Date): Promise<boolean> {
    const n = await tx.$executeRaw`UPDATE technical_contact SET attached_at = ${now} WHERE id = ${contactId}::uuid AND attached_at IS NULL`;
    return n === 1;
  }

  async partner(id: string, tx: Tx = this.prisma): Promise<PartnerView | null> {
    const row = await tx.partner.findUnique({ where: { id } });
    return row ? toPartner(row) : null;
  }

  async contact(id: string, tx: Tx = this.prisma): Promise<ContactView | null> {
    const row = await tx.technicalContact.findUnique({ where: { id } });
    return row ? toContact(row) : null;
  }

  async contactsOf(partnerId: string): Promise<ContactView[]> {
    const rows = await this.prisma.technicalContact.findMany({ where: { partnerId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toContact);
  }
}

function toPartner(r: { id: string; legalName: string; registrationNumber: string; country: string; businessRepresentative: string | null }): PartnerView {
  return { id: r.id, legalName: r.legalName, registrationNumber: r.registrationNumber, country: r.country, businessRepresentative: r.businessRepresentative };
}

function toContact(r: Omit<ContactView, 'attached'> & { attachedAt: Date | null }): ContactView {
  return { id: r.id, partnerId: r.partnerId, name: r.name, email: r.email, mobile: r.mobile, language: r.language, attached: r.attachedAt !== null };
}
