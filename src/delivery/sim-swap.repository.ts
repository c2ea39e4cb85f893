import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { toRow, type DeliveryRow } from './delivery.repository.js';

export interface SimSwapBlockRow {
  id: string;
  deliveryId: string;
  detectedAt: Date;
  lastSwapAt: Date | null;
  swappedPeriod: string | null;
  reason: string;
  clearedAt: Date | null;
  clearedById: string | null;
  clearReason: string | null;
}

/** A blocked delivery as the staff home and the console list it. */
export interface BlockedDeliveryRow extends SimSwapBlockRow {
  delivery: DeliveryRow;
}

@Injectable()
export class SimSwapRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The open block and whether one was ever cleared, for one delivery. */
  async stateOf(db: Tx | PrismaService, deliveryId: string): Promise<{ open: SimSwapBlockRow | null; cleared: boolean }> {
    const rows: SimSwapBlockRow[] = await db.deliverySimSwapBlock.findMany({ where: { deliveryId }, orderBy: { detectedAt: 'desc' } });
    return { open: rows.find((r) => !r.clearedAt) ?? null, cleared: rows.some((r) => r.clearedAt) };
  }

  /** Null when the delivery already has an open block (a concurrent request recorded it). */
  async open(
    tx: Tx,
    b: { deliveryId: string; detectedAt: Date; lastSwapAt: Date | null; swappedPeriod: string | null; reason: string },
  ): Promise<SimSwapBlockRow | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO delivery_sim_swap_block (id, delivery_id, detected_at, last_swap_at, swapped_period, reason)
      VALUES (${randomUUID()}::uuid, ${b.deliveryId}::uuid, ${b.detectedAt}, ${b.lastSwapAt}, ${b.swappedPeriod}, ${b.reason})
      ON CONFLICT (delivery_id) WHERE cleared_at IS NULL DO NOTHING RETURNING id::text AS id`;
    return rows.length ? tx.deliverySimSwapBlock.findUnique({ where: { id: rows[0].id } }) : null;
  }

  /** Clears the open block of a delivery; null when there is none. */
  async clear(tx: Tx, deliveryId: string, staffId: string, reason: string, now: Date): Promise<SimSwapBlockRow | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE delivery_sim_swap_block SET cleared_at = ${now}, cleared_by_id = ${staffId}::uuid, clear_reason = ${reason}
      WHERE delivery_id = ${deliveryId}::uuid AND cleared_at IS NULL RETURNING id::text AS id`;
    return rows.length ? tx.deliverySimSwapBlock.findUnique({ where: { id: rows[0].id } }) : null;
  }

  /** Open blocks of deliveries that are still pending, oldest first. */
  async openOfPending(now: Date, subject?: { type: string; ids: string[] }): Promise<BlockedDeliveryRow[]> {
    const rows = await this.prisma.deliverySimSwapBlock.findMany({
      where: {
        clearedAt: null,
        delivery: { state: 'pending', expiresAt: { gt: now }, ...(subject ? { subjectType: subject.type, subjectId: { in: subject.ids } } : {}) },
      },
      include: { delivery: true },
      orderBy: { detectedAt: 'asc' },
      take: 200,
    });
    return rows.map(({ delivery, ...b }) => ({ ...b, delivery: toRow(delivery) }));
  }
}
