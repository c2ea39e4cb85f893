import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HomeSources, type ActionItem } from '../common/home-sources.js';
import { NotificationRepository } from './notification.repository.js';

/** Failed messages older than this leave the staff home (the console's messages page looks further back). */
export const FAILED_NOTIFICATION_DAYS = 14;

/** The failed-messages section of the staff home; each item links to its row on the console's messages page. */
@Injectable()
export class NotificationsHome implements OnModuleInit {
  constructor(
    private readonly sources: HomeSources,
    private readonly repo: NotificationRepository,
  ) {}

  onModuleInit(): void {
    this.sources.addSection({
      key: 'notifications',
      heading: 'Messages that could not be delivered',
      order: 50,
      empty: `No email or SMS failed in the last ${FAILED_NOTIFICATION_DAYS} days.`,
      items: (_v, now) => this.items(now),
    });
  }

  async items(now: Date): Promise<ActionItem[]> {
    const rows = await this.repo.undelivered(new Date(now.getTime() - FAILED_NOTIFICATION_DAYS * 86_400_000));
    return rows.map((n) => ({
      key: `notification:${n.id}:${n.status}`,
      title: `${n.channel === 'sms' ? 'SMS' : 'Email'} ${n.template} to ${n.recipientMasked}`,
      detail: n.status === 'unknown' ? `Outcome unknown: ${n.providerReason ?? ''}` : `Failed: ${n.providerReason ?? ''}`,
      href: `/console/notifications?status=${n.status}#notification-${n.id}`,
      since: n.updatedAt,
    }));
  }
}
