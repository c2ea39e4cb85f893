import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { StaffRole } from '../generated/prisma/enums.js';

export interface ActiveSession {
  id: string;
  staffId: string;
  role: StaffRole;
  email: string;
  name: string;
  lastSeenAt: Date;
}

@Injectable()
export class SessionRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(tx: Tx, s: { tokenHash: string; staffId: string; expiresAt: Date; ip: string | null; userAgent: string | null; now: Date }): Promise<string> {
    const id = randomUUID();
    await tx.staffSession.create({
      data: { id, tokenHash: s.tokenHash, staffId: s.staffId, expiresAt: s.expiresAt, ip: s.ip, userAgent: s.userAgent, createdAt: s.now, lastSeenAt: s.now },
    });
    return id;
  }

  /** A live session of an enabled account, or null; idle and absolute limits are checked in SQL. */
  async findActive(tokenHash: string, now: Date, idleSince: Date): Promise<ActiveSession | null> {
    const s = await this.prisma.staffSession.findFirst({
      where: { tokenHash, revokedAt: null, expiresAt: { gt: now }, lastSeenAt: { gt: idleSince }, staff: { disabledAt: null } },
      select: { id: true, staffId: true, lastSeenAt: true, staff: { select: { role: true, email: true, name: true } } },
    });
    return s ? { id: s.id, staffId: s.staffId, lastSeenAt: s.lastSeenAt, role: s.staff.role, email: s.staff.email, name: s.staff.name } : null;
  }

  async touch(id: string, now: Date): Promise<void> {
    await this.prisma.staffSession.updateMany({ where: { id, revokedAt: null }, data: { lastSeenAt: now } });
  }

  async revoke(tx: Tx, id: string, now: Date): Promise<number> {
    return (await tx.staffSession.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } })).count;
  }

  async revokeAllOfExcept(tx: Tx, staffId: string, keepId: string, now: Date): Promise<number> {
    return (await tx.staffSession.updateMany({ where: { staffId, revokedAt: null, id: { not: keepId } }, data: { revokedAt: now } })).count;
  }

  async revokeAllOf(tx: Tx, staffId: string, now: Date): Promise<number> {
    return (await tx.staffSession.updateMany({ where: { staffId, revokedAt: null }, data: { revokedAt: now } })).count;
  }
}
