import { describe, expect, it } from 'vitest';
import { actionsFor } from './console-requests.actions.js';
import type { OnboardingRequestView } from './onboarding.types.js';

const CREATOR = 'c0000000-0000-4000-8000-000000000001';
const OTHER = 'c0000000-0000-4000-8000-000000000002';

function request(over: Partial<OnboardingRequestView> = {}): OnboardingRequestView {
  return {
    id: 'r1',
    reference: 'OB-AAAA-BBBB',
    state: 'in_review',
    version: 2,
    purpose: 'p',
    language: 'en',
    createdAt: '',
    updatedAt: '',
    createdByStaffId: CREATOR,
    lastEditedById: CREATOR,
    reviewStartedById: OTHER,
    decisionReason: null,
    withdrawnReason: null,
    partner: { id: 'p', legalName: 'P', registrationNumber: '1', country: 'NL', businessRepresentative: null },
    contact: { id: 'c', name: 'C', email: 'c@example.com', mobile: '+31612345678', language: 'en', attached: true },
    contactVouchedById: null,
    applicant: { legalName: 'P', contactName: 'C' },
    items: [
      { apiEnvironmentId: 'a', apiKey: 'business', apiName: 'Business API', environment: 'acceptance' },
      { apiEnvironmentId: 'b', apiKey: 'business', apiName: 'Business API', environment: 'production' },
    ],
    approvals: [],
    ...over,
  };
}
const approval = (environment: 'acceptance' | 'production', status: 'valid' | 'issued' | 'expired') => ({
  environment,
  status,
  approvedById: OTHER,
  approvedByName: null,
  approvedAt: '',
  expiresAt: '',
  issuedAt: null,
});

describe('console actions offered', () => {
  it('offers nothing to a viewer', () => {
    expect(actionsFor(request(), { staffId: OTHER, role: 'viewer' })).toMatchObject({ any: false, approvals: [], reject: false, startReview: false });
  });
  it('offers Acceptance to a second reviewer, and Production only after it', () => {
    const a = actionsFor(request(), { staffId: OTHER, role: 'reviewer' });
    expect(a.approvals).toEqual([
      { environment: 'acceptance', blocked: null },
      { environment: 'production', blocked: 'Approve Acceptance first.' },
    ]);
    const b = actionsFor(request({ approvals: [approval('acceptance', 'issued')] }), { staffId: OTHER, role: 'admin' });
    expect(b.approvals).toEqual([{ environment: 'production', blocked: null }]);
  });
  it('shows the creator why they cannot approve (four-eyes)', () => {
    const a = actionsFor(request(), { staffId: CREATOR, role: 'reviewer' });
    expect(a.approvals[0].blocked).toMatch(/four-eyes/);
  });
  it('offers renewal of a lapsed approval on an approved request', () => {
    const a = actionsFor(request({ state: 'approved', approvals: [approval('acceptance', 'expired'), approval('production', 'valid')] }), {
      staffId: OTHER,
      role: 'reviewer',
    });
    expect(a.approvals).toEqual([{ environment: 'acceptance', blocked: null }]);
    expect(a.reject).toBe(false);
  });
  it('offers to confirm an environment issued before a resubmission when it is the last decision missing', () => {
    const only = request({ items: [request().items[0]], approvals: [approval('acceptance', 'issued')] });
    expect(actionsFor(only, { staffId: OTHER, role: 'reviewer' }).approvals).toEqual([{ environment: 'acceptance', blocked: null }]);
    const both = request({ approvals: [approval('acceptance', 'issued')] });
    expect(actionsFor(both, { staffId: OTHER, role: 'reviewer' }).approvals).toEqual([{ environment: 'production', blocked: null }]);
  });

  it('needs a confirmed contact, from another reviewer, before a new contact of a known partner can be approved', () => {
    const waiting = request({ contact: { ...request().contact, attached: false } });
    const a = actionsFor(waiting, { staffId: OTHER, role: 'reviewer' });
    expect(a.confirmContact).toBe(true);
    expect(a.approvals[0].blocked).toMatch(/confirm the contact first/);
    const vouched = request({ contact: { ...request().contact, attached: false }, contactVouchedById: OTHER });
    expect(actionsFor(vouched, { staffId: OTHER, role: 'reviewer' }).approvals[0].blocked).toMatch(/You confirmed the new technical contact/);
    const third = 'c0000000-0000-4000-8000-000000000003';
    expect(actionsFor(vouched, { staffId: third, role: 'reviewer' })).toMatchObject({
      confirmContact: false,
      approvals: [{ environment: 'acceptance', blocked: null }, expect.anything()],
    });
  });
  it('shows whoever approved Production why they cannot issue it', () => {
    const r = request({ state: 'approved', approvals: [approval('acceptance', 'issued'), approval('production', 'valid')] });
    expect(actionsFor(r, { staffId: OTHER, role: 'reviewer' }).issues).toEqual([
      { environment: 'production', blocked: expect.stringMatching(/another reviewer must issue/) },
    ]);
    expect(actionsFor(r, { staffId: CREATOR, role: 'reviewer' }).issues).toEqual([{ environment: 'production', blocked: null }]);
  });

  it('offers only start review and withdraw on a submitted request', () => {
    const a = actionsFor(request({ state: 'submitted' }), { staffId: OTHER, role: 'reviewer' });
    expect(a).toMatchObject({ startReview: true, approvals: [], reject: false, requestChanges: false, withdraw: true });
  });
});
