import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HomeSources, type ActionItem, type HomeViewer } from '../common/home-sources.js';
import { OnboardingQueueRepository, type WaitingRequestRow } from './onboarding-queue.repository.js';

const DAY_MS = 86_400_000;
/** Approvals that lapse within this many days are shown as about to lapse. */
export const LAPSE_WARNING_DAYS = 3;
const ENV = { acceptance: 'Acceptance', production: 'Production' } as const;

/**
 * The onboarding sections of the staff home and its charts. "Yours" follows the four-eyes rules of
 * `actionsFor`: whoever created or last edited a request, or confirmed its new contact, does not approve it;
 * whoever approved Production does not issue it.
 */
@Injectable()
export class OnboardingHome implements OnModuleInit {
  constructor(
    private readonly sources: HomeSources,
    private readonly queue: OnboardingQueueRepository,
  ) {}

  onModuleInit(): void {
    this.sources.addSection({
      key: 'requests',
      heading: 'Requests waiting for you',
      order: 10,
      empty: 'No request waits for your review or approval.',
      items: (v) => this.requests(v),
    });
    this.sources.addSection({
      key: 'issue',
      heading: 'Approved, credentials to issue',
      order: 20,
      empty: 'No approval waits for its credentials.',
      items: (v, now) => this.toIssue(v, now),
    });
    this.sources.addSection({
      key: 'lapsing',
      heading: 'Approvals about to lapse',
      order: 60,
      empty: `No approval lapses within ${LAPSE_WARNING_DAYS} days.`,
      items: (v, now) => this.lapsing(v, now),
    });
    this.sources.addChart({
      key: 'requests-per-week',
      title: 'Requests per week by outcome',
      description: 'Requests received per week (last 12 weeks), by where each stands now.',
      order: 10,
      data: (now) => this.weeklyOutcomes(now),
    });
    this.sources.addChart({
      key: 'time-to-issue',
      title: 'Median time from request to credentials',
      description: 'Median hours from submission to the first issued credential, per week of issue (last 12 weeks).',
      order: 20,
      data: (now) => this.timeToIssue(now),
    });
  }

  async requests(viewer: HomeViewer): Promise<ActionItem[]> {
    if (viewer.role === 'viewer') return [];
    const rows = await this.queue.waitingRequests();
    return rows
      .filter((r) => r.state === 'submitted' || mayApprove(r, viewer.staffId) || needsContactCheck(r))
      .map((r) => ({
        key: `request:${r.id}:${r.state}`,
        title: `${r.reference} · ${r.partnerName}`,
        detail: r.state === 'submitted' ? 'Waiting for review' : needsContactCheck(r) ? 'New technical contact to confirm' : 'Waiting for your approval',
        href: `/console/requests/${r.id}`,
        since: r.since,
        forReview: true,
      }));
  }

  async toIssue(viewer: HomeViewer, now: Date): Promise<ActionItem[]> {
    if (viewer.role === 'viewer') return [];
    const rows = await this.queue.openApprovals(now);
    return rows
      .filter((a) => !(a.environment === 'production' && a.approvedById === viewer.staffId))
      .map((a) => ({
        key: `approval:${a.requestId}:${a.environment}:issue`,
        title: `${a.reference} · ${a.partnerName}`,
        detail: `${ENV[a.environment]} approved; lapses ${a.expiresAt.toISOString().slice(0, 10)}`,
        href: '/console/credentials/issue',
        since: a.approvedAt,
        forReview: true,
      }));
  }

  async lapsing(_viewer: HomeViewer, now: Date): Promise<ActionItem[]> {
    const soon = now.getTime() + LAPSE_WARNING_DAYS * DAY_MS;
    const rows = await this.queue.openApprovals(now);
    return rows
      .filter((a) => a.expiresAt.getTime() <= soon)
      .map((a) => ({
        key: `approval:${a.requestId}:${a.environment}:lapsing`,
        title: `${a.reference} · ${a.partnerName}`,
        detail: `${ENV[a.environment]} approval lapses ${a.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        href: `/console/requests/${a.requestId}`,
        since: a.approvedAt,
      }));
  }

  private async weeklyOutcomes(now: Date) {
    const weeks = lastWeeks(now, 12);
    const rows = await this.queue.weeklyOutcomes(weeks[0]);
    const outcomes = [
      { key: 'approved', name: 'Approved', cssClass: 'chart-s1' },
      { key: 'open', name: 'Open', cssClass: 'chart-s2' },
      { key: 'rejected', name: 'Rejected', cssClass: 'chart-s3' },
      { key: 'withdrawn', name: 'Withdrawn', cssClass: 'chart-s4' },
    ];
    const index = new Map(weeks.map((w, i) => [w.getTime(), i]));
    const series = outcomes.map((o) => ({ name: o.name, cssClass: o.cssClass, values: weeks.map(() => 0) }));
    for (const r of rows) {
      const i = index.get(r.week.getTime());
      const s = outcomes.findIndex((o) => o.key === r.outcome);
      if (i !== undefined && s >= 0) series[s].values[i] += r.n;
    }
    return { kind: 'stacked-bars' as const, categories: weeks.map(weekLabel), series, unit: 'requests' };
  }

  private async timeToIssue(now: Date) {
    const weeks = lastWeeks(now, 12);
    const rows = await this.queue.weeklyMedianHoursToIssue(weeks[0]);
    const byWeek = new Map(rows.map((r) => [r.week.getTime(), Math.round(r.hours * 10) / 10]));
    return { kind: 'bars' as const, categories: weeks.map(weekLabel), values: weeks.map((w) => byWeek.get(w.getTime()) ?? null), unit: 'hours' };
  }
}

function mayApprove(r: WaitingRequestRow, staffId: string): boolean {
  if (r.state !== 'in_review' || staffId === r.createdByStaffId || staffId === r.lastEditedById) return false;
  return r.contactAttached || (!!r.contactVouchedById && r.contactVouchedById !== staffId);
}

function needsContactCheck(r: WaitingRequestRow): boolean {
  return r.state === 'in_review' && !r.contactAttached && !r.contactVouchedById;
}

/** The Mondays (00:00 UTC) of the last `n` weeks, oldest first, the current week last. */
export function lastWeeks(now: Date, n: number): Date[] {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const monday = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
  return Array.from({ length: n }, (_, i) => new Date(monday.getTime() - (n - 1 - i) * 7 * DAY_MS));
}

function weekLabel(d: Date): string {
  return d.toISOString().slice(5, 10);
}
