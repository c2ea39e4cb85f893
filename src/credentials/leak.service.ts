import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { hmacSha256Hex, sha256Hex } from '../common/crypto.js';
import { RateLimitedError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { ClientRegistry } from './client-registry.js';
import { environmentLabel } from './credential-format.js';
import { CredentialsRepository } from './credentials.repository.js';
import { LeakReportsRepository } from './leak-reports.repository.js';
import type { LeakIncident, LeakReportRow, LeakReporter, LeakSighting, LeakVerdict } from './leak.types.js';
import { RotationService } from './rotation.service.js';

/** The shape every secret we ever issued has (credential-format.ts): anything else is not ours, unhashed. */
export const SECRET_SHAPE = /^cbsk_(acc|prd)_[A-Za-z0-9_-]{43}$/;
const HOUR_MS = 3_600_000;
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * A leaked secret, however we hear of it (a signed scanner alert, the public form, staff): the secret is
 * found by its keyed hash (under every SECRET_HASH_KEY still in use), revoked at once on every instance,
 * replaced through an emergency rotation a reviewer approves, and its technical contact and staff are told.
 * The report row, the revocation, the rotation, the audit rows and the emails share one transaction.
 */
@Injectable()
export class LeakService {
  private readonly hashKeys: Buffer[];

  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: LeakReportsRepository,
    private readonly credentialsRepo: CredentialsRepository,
    private readonly rotation: RotationService,
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly registry: ClientRegistry,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.hashKeys = [config.secretHashKey, ...config.secretHashKeysPrevious];
  }

  /**
   * One verdict per sighting, in order. With `receiptDigest` (a signed alert) the first delivery acts and a
   * replay only answers: the lookup is read-only, so the verdicts read the same.
   */
  async report(ctx: RequestContext, reporter: LeakReporter, sightings: LeakSighting[], opts: { receiptDigest?: string } = {}): Promise<LeakVerdict[]> {
    const hashes = new Map<string, number[]>();
    sightings.forEach((s, i) => {
      if (!SECRET_SHAPE.test(s.token)) return;
      for (const key of this.hashKeys) {
        const h = hmacSha256Hex(key, s.token);
        hashes.set(h, [...(hashes.get(h) ?? []), i]);
      }
    });
    const verdicts: LeakVerdict[] = sightings.map(() => ({ ours: false, outcome: null, credentialId: null, secretId: null, rotationId: null }));
    const found = await this.repo.secretsByHash([...hashes.keys()]);
    const bySecret = new Map<string, { credentialId: string; indexes: number[] }>();
    for (const f of found) {
      for (const i of hashes.get(f.hash) ?? []) {
        Object.assign(verdicts[i], { ours: true, credentialId: f.credentialId, secretId: f.secretId });
        const entry = bySecret.get(f.secretId) ?? { credentialId: f.credentialId, indexes: [] };
        entry.indexes.push(i);
        bySecret.set(f.secretId, entry);
      }
    }
    if (!bySecret.size && !opts.receiptDigest) return verdicts;
    const now = this.clock.now();
    const changed = await this.prisma.transaction(
      async (tx) => {
        if (
          opts.receiptDigest &&
          !(await this.repo.takeReceipt(tx, opts.receiptDigest, now, new Date(now.getTime() - this.config.secretScanning.replayHours * HOUR_MS)))
        )
          return [];
        const clientIds: string[] = [];
        // Credential order: the order every path that locks several credentials takes, so none deadlock.
        const ordered = [...bySecret].sort(([, a], [, b]) => a.credentialId.localeCompare(b.credentialId));
        for (const [secretId, { credentialId, indexes }] of ordered) {
          const first = sightings[indexes[0]];
          const result = await this.handle(tx, ctx, reporter, credentialId, secretId, first, now);
          for (const i of indexes) Object.assign(verdicts[i], { outcome: result.outcome, rotationId: result.rotationId });
          if (result.clientId) clientIds.push(result.clientId);
        }
        return clientIds;
      },
      { timeoutMs: 60_000 },
    );
    // Refused on this instance from the next request; the others hear it through NOTIFY at commit.
    for (const clientId of changed) this.registry.invalidate(clientId);
    return verdicts;
  }

  private async handle(
    tx: Tx,
    ctx: RequestContext,
    reporter: LeakReporter,
    credentialId: string,
    secretId: string,
    sighting: LeakSighting,
    now: Date,
  ): Promise<{ outcome: 'revoked' | 'already_inactive'; rotationId: string | null; clientId: string | null }> {
    const cred = (await this.credentialsRepo.lockCredential(tx, credentialId))!;
    const before = (await this.credentialsRepo.secretById(tx, secretId))!;
    const revoked = await this.repo.revokeSecret(tx, secretId, now);
    let rotationId: string | null = null;
    if (revoked && cred.state === 'active') rotationId = await this.rotation.openEmergencyLocked(tx, ctx, cred, before);
    const url = clean(sighting.url, 2000, sighting.token);
    const source = clean(sighting.source, 300, sighting.token);
    const fingerprint = sha256Hex(sighting.token).slice(0, 16);
    const outcome = revoked ? 'revoked' : 'already_inactive';
    const reportId = randomUUID();
    const staffId = ctx.actor.type === 'staff' ? ctx.actor.id : null;
    await this.repo.insert(tx, {
      id: reportId,
      credentialId,
      secretId,
      fingerprint,
      reporter,
      reportedById: staffId,
      source,
      url,
      secretStateBefore: before.state,
      outcome,
      rotationId,
      reportedAt: now,
    });
    await this.audit.record(tx, ctx, {
      action: revoked ? 'credential.secret_leaked_revoked' : 'credential.secret_leak_reported',
      subjectType: 'credential',
      subjectId: credentialId,
      environment: cred.environment,
      detail: { clientId: cred.clientId, secretId, fingerprint, reporter, source, url, stateBefore: before.state, outcome, rotationId, leakReportId: reportId },
    });
    if (!revoked) return { outcome, rotationId, clientId: null };
    await this.credentialsRepo.notifyChanged(tx, cred.clientId);
    await this.alert(tx, reportId, credentialId, secretId, reporter, { url, source, rotationId, now });
    return { outcome, rotationId, clientId: cred.clientId };
  }

  /** The technical contact (their language) and staff. A URL typed into the public form is not passed on to the partner: it is a stranger's text. */
  private async alert(
    tx: Tx,
    reportId: string,
    credentialId: string,
    secretId: string,
    reporter: LeakReporter,
    f: { url: string | null; source: string | null; rotationId: string | null; now: Date },
  ): Promise<void> {
    const c = (await this.credentialsRepo.detail(credentialId, tx))!;
    const hint = c.secrets.find((s) => s.id === secretId)?.hint ?? '';
    const common = {
      clientId: c.clientId,
      partnerName: c.partnerName,
      apiName: c.apiName,
      environmentLabel: environmentLabel(c.environment),
      secretHint: hint,
      reportedAt: f.now.toISOString(),
      emergencyRotation: !!f.rotationId,
    };
    const shared = reporter === 'partner_form' ? { url: null, source: null } : { url: f.url, source: f.source };
    await this.notifications.enqueueEmail(tx, {
      to: c.contact.email,
      template: 'secret-leaked',
      language: c.contact.language,
      idempotencyKey: `leak:${reportId}:contact`,
      subject: { type: 'credential', id: credentialId },
      data: { ...common, ...shared, recipientName: c.contact.name, reporter },
    });
    if (this.config.staffAlertEmail) {
      await this.notifications.enqueueEmail(tx, {
        to: this.config.staffAlertEmail,
        template: 'staff-secret-leaked',
        language: 'en',
        idempotencyKey: `leak:${reportId}:staff`,
        subject: { type: 'credential', id: credentialId },
        data: { ...common, url: f.url, source: f.source, reporter, consoleUrl: `${this.config.publicBaseUrl}/console/credentials/${credentialId}` },
      });
    }
  }

  /** The public form's limit per client IP and hour (429 leak/rate_limited), counted in PostgreSQL across instances. */
  async countPublicReport(clientIp: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
    const count = await this.repo.hitRateLimit(hmacSha256Hex(this.config.secretHashKey, `leak-form-ip:${clientIp ?? 'unknown'}`), windowStart);
    if (count > this.config.secretScanning.reportsPerHour) {
      throw new RateLimitedError(
        'leak/rate_limited',
        'Too many reports from your network in the last hour. Please try again later, or contact us directly.',
        (windowStart.getTime() + HOUR_MS - now) / 1000,
      );
    }
  }

  list(filter: { credentialId?: string; limit?: number } = {}): Promise<LeakReportRow[]> {
    return this.repo.list({ credentialId: filter.credentialId, limit: Math.min(Math.max(filter.limit ?? 100, 1), 500) });
  }

  /** Leaks whose emergency rotation is not completed: for the staff's "needs my action". */
  openLeakIncidents(): Promise<LeakIncident[]> {
    return this.repo.openIncidents();
  }
}

/** Free text kept for staff: bounded, without control characters, and never the secret itself. */
function clean(value: string | null | undefined, max: number, token: string): string | null {
  if (typeof value !== 'string') return null;
  let v = value.replace(CONTROL, ' ').trim();
  if (token && v.includes(token)) v = v.split(token).join('[secret removed]');
  v = v.slice(0, max);
  return v || null;
}
