import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

export interface LineOverrideRow {
  contactId: string;
  lineType: string | null;
  reason: string;
  staffId: string;
  createdAt: Date;
}

@Injectable()
export class LineOverrideRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(contactId: string, db: Tx | PrismaService = this.prisma): Promise<LineOverrideRow | null> {
    return db.contactLineOverride.findUnique({ where: { contactId } });
  }

  /** A later override replaces the earlier one (its reason and author); the audit trail keeps both. */
  async put(tx: Tx, row: Omit<LineOverrideRow, 'createdAt'>, now: Date): Promise<void> {
    await tx.contactLineOverride.upsert({
      where: { contactId: row.contactId },
      create: { ...row, createdAt: now },
      update: { lineType: row.lineType, reason: row.reason, staffId: row.staffId, createdAt: now },
    });
  }
}
