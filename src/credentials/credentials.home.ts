import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HomeSources, type ActionItem, type HomeViewer } from '../common/home-sources.js';
import { DeliveryHome } from '../delivery/delivery.home.js';
import { CredentialsQueueRepository } from './credentials-queue.repository.js';
import { CREDENTIAL_SECRET_SUBJECT } from './credentials.service.js';
import { LeakService } from './leak.service.js';

const DAY_MS = 86_400_000;
export const EXPIRY_WARNING_DAYS = 30;
const TIMELINE_DAYS = 90;

/** The credentials sections of the staff home (rotations to approve, secrets expiring) and the expiry timeline. */
@Injectable()
export class CredentialsHome implements OnModuleInit {
  constructor(
    private readonly sources: HomeSources,
    private readonly queue: CredentialsQueueRepository,
    private readonly leaks: LeakService,
    private readonly deliveryHome: DeliveryHome,
  ) {}

  onModuleInit(): void {
    // A secret's delivery held after a SIM change is cleared on its credential's page.
    this.deliveryHome.registerSubjectLinks(CREDENTIAL_SECRET_SUBJECT, async (secretIds) => {
      const ids = await this.queue.credentialIdsOfSecrets(secretIds);
      return new Map([...ids].map(([secretId, credentialId]) => [secretId, `/console/credentials/${credentialId}#sim-swap-holds`]));
    });
    this.sources.addSection({
      key: 'leaks',
      heading: 'Leaked secrets not yet replaced',
      order: 5,
      empty: 'No leaked secret waits for its replacement.',
      items: () => this.leaked(),
    });
    this.sources.addSection({
      key: 'rotations',
      heading: 'Rotations waiting for your approval',
      order: 30,
      empty: 'No rotation waits for your approval.',
      items: (v) => this.rotations(v),
    });
    this.sources.addSection({
      key: 'expiring',
      heading: `Secrets expiring within ${EXPIRY_WARNING_DAYS} days`,
      order: 70,
      empty: `No secret expires within ${EXPIRY_WARNING_DAYS} days.`,
      items: (_v, now) => this.expiring(now),
    });
    this.sources.addChart({
      key: 'secret-expiries',
      title: 'Secret expiries, next 90 days',
      description: 'Active secrets by the day they expire, over the next 90 days.',
      order: 40,
      data: (now) => this.timeline(now),
    });
  }

  /** A rotation is approved by someone other than the staff member who started it (rotation/four_eyes). */
  async rotations(viewer: HomeViewer): Promise<ActionItem[]> {
    if (viewer.role === 'viewer') return [];
    const rows = await this.queue.rotationsAwaitingApproval();
    return rows
      .filter((r) => r.requestedById !== viewer.staffId)
      .map((r) => ({
        key: `rotation:${r.id}:approve`,
        title: `${r.clientId} · ${r.partnerName}`,
        detail: 'Rotation waiting for approval',
        href: `/console/credentials/${r.credentialId}`,
        since: r.since,
        forReview: true,
      }));
  }

  /**
   * A leaked secret is revoked at once; what waits is its emergency rotation. Shown to everyone as attention:
   * the approval itself is offered (four-eyes aware) in the rotations section, so the digest lists it once.
   */
  async leaked(): Promise<ActionItem[]> {
    const incidents = await this.leaks.openLeakIncidents();
    return incidents.map((l) => ({
      key: `leak:${l.reportId}`,
      title: `${l.clientId} · ${l.partnerName}`,
      detail: `Leaked secret revoked; emergency rotation ${l.rotationState.replace(/_/g, ' ')}`,
      href: `/console/credentials/${l.credentialId}`,
      since: l.reportedAt,
    }));
  }

  async expiring(now: Date): Promise<ActionItem[]> {
    const rows = await this.queue.secretsExpiringBefore(now, new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS));
    return rows.map((s) => ({
      key: `secret:${s.secretId}:expiring`,
      title: `${s.clientId} · ${s.partnerName}`,
      detail: `Secret ${s.hint} expires ${s.expiresAt.toISOString().slice(0, 10)}`,
      href: `/console/credentials/${s.credentialId}`,
      // It has waited for a rotation since it came within the warning window.
      since: new Date(s.expiresAt.getTime() - EXPIRY_WARNING_DAYS * DAY_MS),
    }));
  }

  private async timeline(now: Date) {
    const rows = await this.queue.secretsExpiringBefore(now, new Date(now.getTime() + TIMELINE_DAYS * DAY_MS));
    return {
      kind: 'timeline' as const,
      start: now,
      days: TIMELINE_DAYS,
      events: rows.map((s) => ({ at: s.expiresAt, label: `${s.clientId} (${s.partnerName})` })),
    };
  }
}
