import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { OnboardingState } from '../generated/prisma/enums.js';
import { PartnersService } from '../partners/partners.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { OPEN_STATES } from './onboarding-request.state.js';
import { ContactLineService } from './contact-line.service.js';
import { IntakeGuard } from './intake-guard.js';
import { OnboardingNotifier } from './onboarding.notifier.js';
import { OnboardingRepository, type RequestCore } from './onboarding.repository.js';
import { OnboardingRequestReader } from './onboarding-request.reader.js';
import { STATUS_TOKEN_PATTERN, newReference, newStatusToken, sealStatusToken, statusTokenHash } from './onboarding.tokens.js';
import { OnboardingTransitions, conflict } from './onboarding.transitions.js';
import type {
  CatalogueEntry,
  EditInput,
  OnboardingListFilter,
  OnboardingListRow,
  OnboardingRequestView,
  RequestedItem,
  SubmitInput,
} from './onboarding.types.js';

/**
 * Onboarding requests as the requesting side sees them: submit, edit, resubmit, withdraw, and the queries
 * (one request's view and history are read by OnboardingRequestReader).
 * The reviewers' decisions and approvals live in OnboardingReviewService.
 */
@Injectable()
export class OnboardingService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: OnboardingRepository,
    private readonly reader: OnboardingRequestReader,
    private readonly transitions: OnboardingTransitions,
    private readonly partners: PartnersService,
    private readonly audit: AuditService,
    private readonly notifier: OnboardingNotifier,
    private readonly intake: IntakeGuard,
    private readonly lines: ContactLineService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  catalogue(): Promise<CatalogueEntry[]> {
    return this.repo.catalogue();
  }

  /**
   * A new request, from the partner (intake page) or from staff on the partner's behalf (`ctx.actor`
   * is then staff, who counts as its creator and last editor for four-eyes). Returns the status-link token once.
   */
  async submit(ctx: RequestContext, input: SubmitInput): Promise<{ id: string; reference: string; statusToken: string }> {
    await this.lines.assertReceivesCodes(input.contact.mobile);
    return this.prisma.transaction((tx) => this.save(tx, ctx, input));
  }

  /** The public intake: the same submission, admitted by the intake's limits and single-use form time in its transaction. */
  async submitFromIntake(
    ctx: RequestContext,
    input: SubmitInput,
    form: { token: string; issuedAtMs: number },
  ): Promise<{ id: string; reference: string; statusToken: string }> {
    // Lookup is a network call: before the transaction, never inside it.
    await this.lines.assertReceivesCodes(input.contact.mobile);
    return this.prisma.transaction(async (tx) => {
      await this.intake.admit(tx, input, form);
      return this.save(tx, ctx, input);
    });
  }

  private async save(tx: Tx, ctx: RequestContext, input: SubmitInput): Promise<{ id: string; reference: string; statusToken: string }> {
    const staffId = ctx.actor.type === 'staff' ? ctx.actor.id : null;
    const statusToken = newStatusToken();
    const id = randomUUID();
    const now = this.clock.now();
    const items = await this.resolveItems(tx, input.items);
    const registered = await this.partners.register(tx, ctx, input.partner, { ...input.contact, language: input.language }, now);
    const { partner, contact, partnerCreated, contactCreated } = registered;
    // A partner's own submission is attributed to the technical contact it names.
    if (ctx.actor.type === 'partner_contact') ctx = { ...ctx, actor: { type: 'partner_contact', id: contact.id } };
    const applicant = { legalName: input.partner.legalName.trim(), contactName: input.contact.name.trim() };
    const reference = await this.repo.insert(
      tx,
      {
        id,
        partnerId: partner.id,
        contactId: contact.id,
        purpose: input.purpose.trim(),
        language: input.language,
        statusTokenHash: this.hashToken(statusToken),
        statusTokenEnc: sealStatusToken(this.config.masterKeys, id, statusToken),
        createdByStaffId: staffId,
        applicantLegalName: applicant.legalName,
        applicantContactName: applicant.contactName,
        // Staff entering a request for a new contact of a known partner have checked that contact; another reviewer approves.
        contactVouchedById: contact.attached ? null : staffId,
        now,
      },
      newReference,
    );
    await this.repo.replaceItems(
      tx,
      id,
      items.map((i) => i.apiEnvironmentId),
    );
    await this.audit.record(tx, ctx, {
      action: 'onboarding.submitted',
      subjectType: 'onboarding_request',
      subjectId: id,
      detail: {
        reference,
        to: 'submitted',
        version: 1,
        partnerId: partner.id,
        contactId: contact.id,
        // A new contact on a known partner is worth a reviewer's second look (who added it?).
        newPartner: partnerCreated,
        newContact: contactCreated,
        contactAttached: contact.attached,
        onBehalf: staffId !== null,
        items: items.map((i) => `${i.apiKey}:${i.environment}`),
      },
    });
    await this.notifier.received(tx, {
      id,
      reference,
      version: 1,
      language: input.language,
      partnerName: applicant.legalName,
      contactName: applicant.contactName,
      contact,
      items,
      statusUrl: this.statusUrl(statusToken),
    });
    return { id, reference, statusToken };
  }

  statusUrl(token: string): string {
    return `${this.config.publicBaseUrl}/requests/${token}`;
  }

  get(id: string): Promise<OnboardingRequestView> {
    return this.reader.get(id);
  }

  /** The partner's view through the status link; an unknown or malformed token is simply not found. */
  async getByStatusToken(token: string): Promise<OnboardingRequestView> {
    return this.get((await this.partnerRequest(token)).id);
  }

  list(filter: OnboardingListFilter): Promise<{ rows: OnboardingListRow[]; total: number }> {
    return this.repo.list(filter);
  }

  partnerContacts(partnerId: string) {
    return this.partners.contactsOf(partnerId);
  }

  countsByState(): Promise<Record<string, number>> {
    return this.repo.countsByState();
  }

  /** The request's audit events, newest first, with staff names where the actor is staff. */
  history(id: string) {
    return this.reader.history(id);
  }

  /** Staff correct purpose or items while the request is open; they then count as its last editor. */
  edit(ctx: RequestContext, id: string, input: EditInput, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      if (!OPEN_STATES.includes(req.state)) {
        throw new ConflictError('onboarding/invalid_transition', `A request that is ${req.state.replace('_', ' ')} can no longer be edited.`, {
          state: req.state,
          event: 'edit',
        });
      }
      const items = input.items ? await this.resolveItems(tx, input.items) : null;
      const version = await this.repo.changeState(tx, {
        id: req.id,
        from: req.state,
        to: req.state,
        version: req.version,
        now: this.clock.now(),
        set: { lastEditedById: ctx.actor.id, ...(input.purpose !== undefined ? { purpose: input.purpose.trim() } : {}) },
      });
      if (version === null) throw conflict();
      if (items) {
        await this.repo.replaceItems(
          tx,
          req.id,
          items.map((i) => i.apiEnvironmentId),
        );
        await this.repo.deleteUnissuedApprovals(tx, req.id);
      }
      await this.audit.record(tx, ctx, {
        action: 'onboarding.edited',
        subjectType: 'onboarding_request',
        subjectId: req.id,
        detail: {
          from: req.state,
          to: req.state,
          version,
          fields: Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined),
          ...(items ? { items: items.map((i) => `${i.apiKey}:${i.environment}`) } : {}),
        },
      });
    });
  }

  /** The partner withdraws through the status link. */
  async withdrawByPartner(ctx: RequestContext, token: string, reason?: string): Promise<OnboardingRequestView> {
    const req = await this.partnerRequest(token);
    return this.act(req.id, undefined, async (tx, current) => {
      await this.transitions.move(tx, this.asContact(ctx, req), current, 'withdraw', { withdrawnReason: reason?.trim() || null });
    });
  }

  /** Staff withdraw on the partner's behalf (e.g. asked by phone). */
  withdraw(ctx: RequestContext, id: string, reason: string | undefined, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      await this.transitions.move(tx, ctx, req, 'withdraw', { withdrawnReason: reason?.trim() || null });
    });
  }

  /**
   * The partner answers "changes requested": purpose and items may change, the contact may not (its
   * mobile number is a second factor for secrets and is not changed through a link). Unissued
   * approvals are dropped: the changed request is reviewed again.
   */
  async resubmitByPartner(
    ctx: RequestContext,
    token: string,
    input: { purpose: string; items: RequestedItem[] },
    expectedVersion?: number,
  ): Promise<OnboardingRequestView> {
    const req = await this.partnerRequest(token);
    const c = this.asContact(ctx, req);
    return this.act(req.id, expectedVersion, async (tx, current) => {
      const items = await this.resolveItems(tx, input.items);
      await this.transitions.move(tx, c, current, 'resubmit', { purpose: input.purpose.trim(), decisionReason: null });
      await this.repo.replaceItems(
        tx,
        current.id,
        items.map((i) => i.apiEnvironmentId),
      );
      await this.repo.deleteUnissuedApprovals(tx, current.id);
      const base = await this.transitions.mailBase(tx, current, items);
      await this.notifier.received(tx, {
        ...base,
        contact: await this.transitions.contactOf(tx, current),
        version: current.version + 1,
        statusUrl: this.statusUrl(token),
      });
    });
  }

  /** Counts one intake submission for this client IP; over the hourly limit it refuses with 429. */
  countIntake(clientIp: string | null): Promise<void> {
    return this.intake.countIp(clientIp);
  }

  // ---------------------------------------------------------------- internals

  private hashToken(token: string): string {
    return statusTokenHash(this.config.secretHashKey, token);
  }

  private async partnerRequest(token: string): Promise<RequestCore> {
    const hashes = [this.config.secretHashKey, ...this.config.secretHashKeysPrevious].map((k) => statusTokenHash(k, token));
    const core = STATUS_TOKEN_PATTERN.test(token) ? await this.repo.coreByStatusTokenHash(hashes) : null;
    if (!core) throw new NotFoundError('onboarding/status_link_unknown', 'This status link is not valid. Use the link from your confirmation email.');
    // After a SECRET_HASH_KEY rotation a status link is re-hashed under the current key on its first use.
    if (hashes.length > 1) await this.repo.rehashStatusToken(core.id, hashes.slice(1), hashes[0]);
    return core;
  }

  private asContact(ctx: RequestContext, req: RequestCore): RequestContext {
    return { ...ctx, actor: { type: 'partner_contact', id: req.contactId } };
  }

  private async act(id: string, expectedVersion: number | undefined, fn: (tx: Tx, req: RequestCore) => Promise<void>): Promise<OnboardingRequestView> {
    await this.transitions.act(id, expectedVersion, fn);
    return this.get(id);
  }

  /** Maps requested (api key, environment) pairs onto the catalogue; anything unknown is a 400 naming it. */
  private async resolveItems(tx: Tx, items: RequestedItem[]): Promise<CatalogueEntry[]> {
    const catalogue = await this.repo.catalogue(tx);
    const unknown: string[] = [];
    const picked = new Map<string, CatalogueEntry>();
    for (const item of items) {
      const entry = catalogue.find((c) => c.apiKey === item.api && c.environment === item.environment);
      if (!entry) unknown.push(`${item.api}:${item.environment}`);
      else picked.set(entry.apiEnvironmentId, entry);
    }
    if (unknown.length) {
      throw new InvalidInputError('onboarding/unknown_api', `Unknown API or environment: ${unknown.join(', ')}.`, {
        fields: { items: [`Choose from: ${[...new Set(catalogue.map((c) => c.apiKey))].join(', ')} (acceptance or production)`] },
        unknown,
      });
    }
    if (!picked.size)
      throw new InvalidInputError('onboarding/no_items', 'Choose at least one API and environment.', {
        fields: { items: ['Choose at least one API and environment'] },
      });
    return [...picked.values()];
  }
}

export type { OnboardingState };
