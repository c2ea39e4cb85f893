import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HomeSources, type ActionItem } from '../common/home-sources.js';
import { DeliveryQueueRepository } from './delivery-queue.repository.js';
import { SmsChecks } from './sms-checks.service.js';

/** A pending delivery this close to its expiry is shown as about to expire unretrieved. */
export const DELIVERY_EXPIRY_WARNING_HOURS = 48;
const WHAT = { locked: 'Locked after wrong codes', bounced: 'Link email could not be delivered', expiring: 'Not retrieved yet; the link expires' } as const;

/** Where staff see a delivery's subject, per subject id; given by the subject's owner (delivery knows no subjects). */
export type SubjectLinks = (subjectIds: string[]) => Promise<Map<string, string>>;

/** The delivery sections of the staff home. The link goes to the credential by its client_id (shown on every delivery). */
@Injectable()
export class DeliveryHome implements OnModuleInit {
  private readonly links = new Map<string, SubjectLinks>();

  constructor(
    private readonly sources: HomeSources,
    private readonly queue: DeliveryQueueRepository,
    private readonly checks: SmsChecks,
  ) {}

  onModuleInit(): void {
    this.sources.addSection({
      key: 'sim-swap',
      heading: 'SMS codes held after a SIM change',
      order: 8,
      empty: 'No SMS code is held after a SIM change.',
      items: () => this.simSwapHolds(),
    });
    this.sources.addSection({
      key: 'deliveries',
      heading: 'Deliveries needing attention',
      order: 40,
      empty: 'No delivery is locked, bounced or about to expire.',
      items: (_v, now) => this.items(now),
    });
  }

  /** The subject's owner links a held delivery to the page where staff clear the hold. */
  registerSubjectLinks(subjectType: string, links: SubjectLinks): void {
    if (this.links.has(subjectType)) throw new Error(`subject links for "${subjectType}" are already registered`);
    this.links.set(subjectType, links);
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

  /** No SMS code goes out until someone on staff checks the SIM change with the contact and clears the hold. */
  async simSwapHolds(): Promise<ActionItem[]> {
    const holds = await this.checks.blockedSimSwapDeliveries();
    const hrefs = new Map<string, string>();
    for (const type of new Set(holds.map((h) => h.subjectType))) {
      const links = this.links.get(type);
      if (links) for (const [id, href] of await links(holds.filter((h) => h.subjectType === type).map((h) => h.subjectId))) hrefs.set(`${type}:${id}`, href);
    }
    return holds.map((h) => ({
      key: `sim-swap:${h.deliveryId}`,
      title: `${h.clientId} · ${h.partnerName}`,
      detail: `No SMS code sent: ${h.reason}`,
      href: hrefs.get(`${h.subjectType}:${h.subjectId}`) ?? `/console/credentials?q=${encodeURIComponent(h.clientId)}`,
      since: h.detectedAt,
    }));
  }
}
