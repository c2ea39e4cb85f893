import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service.js';
import type { DeliveryDisplay } from './delivery.types.js';

export interface AttentionDeliveryRow {
  id: string;
  problem: 'locked' | 'bounced' | 'expiring';
  display: DeliveryDisplay;
  since: Date;
  expiresAt: Date;
}

/** Deliveries that need staff: locked, their link email bounced, or about to expire unretrieved. */
@Injectable()
export class DeliveryQueueRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * A locked delivery stays on the list until a newer delivery for the same subject exists (staff
   * re-delivered). A bounce is a link email that failed for good while the delivery still waits.
   */
  needingAttention(now: Date, expiringBefore: Date, limit = 200): Promise<AttentionDeliveryRow[]> {
    return this.prisma.$queryRaw<AttentionDeliveryRow[]>`
      SELECT d.id::text AS id, 'locked' AS problem, d.display, COALESCE(d.closed_at, d.created_at) AS since, d.expires_at AS "expiresAt"
      FROM delivery d
      WHERE d.state = 'locked'
        AND NOT EXISTS (SELECT 1 FROM delivery n WHERE n.subject_type = d.subject_type AND n.subject_id = d.subject_id AND n.created_at > d.created_at)
      UNION ALL
      SELECT d.id::text, 'bounced', d.display, n.updated_at, d.expires_at
      FROM delivery d JOIN notification n ON n.template = 'delivery-link' AND n.subject_type = d.subject_type AND n.subject_id = d.subject_id
        AND n.status IN ('failed', 'unknown') AND n.created_at >= d.created_at
      WHERE d.state = 'pending'
      UNION ALL
      SELECT d.id::text, 'expiring', d.display, d.created_at, d.expires_at
      FROM delivery d
      WHERE d.state = 'pending' AND d.expires_at > ${now} AND d.expires_at <= ${expiringBefore}
      ORDER BY 4 ASC LIMIT ${limit}`;
  }
}
