import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HomeSources, type ActionItem } from '../common/home-sources.js';
import { DeliveryQueueRepository } from './delivery-queue.repository.js';

/** A pending delivery this close to its expiry is shown as about to expire unretrieved. */
export const DELIVERY_EXPIRY_WARNING_HOURS = 48;
const WHAT = { locked: 'Locked after wrong codes', bounced: 'Link email could not be delivered', expiring: 'Not retrieved yet; the link expires' } as const;

/** The delivery section of the staff home. The link goes to the credential by its client_id (shown on every delivery). */
@Injectable()
export class DeliveryHome implements OnModuleInit {
  constructor(
    private readonly sources: HomeSources,
    private readonly queue: DeliveryQueueRepository,
  ) {}

  onModuleInit(): void {
    this.sources.addSection({
      key: 'deliveries',
      heading: 'Deliveries needing attention',
      order: 40,
      empty: 'No delivery is locked, bounced or about to expire.',
      items: (_v, now) => this.items(now),
    });
  }

  async items(now: Date): Promise<ActionItem[]> {
    const rows = await this.queue.needingAttention(now, new Date(now.getTime() + DELIVERY_EXPIRY_WARNING_HOURS * 3_600_000));
    return rows.map((d) => ({
      key: `delivery:${d.id}:${d.problem}`,
      title: `${d.display.clientId} · ${d.display.partnerName}`,
      detail: d.problem === 'expiring' ? `${WHAT.expiring} ${d.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : WHAT[d.problem],
      href: `/console/credentials?q=${encodeURIComponent(d.display.clientId)}`,
      since: d.since,
    }));
  }
}
