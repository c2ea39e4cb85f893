import { ConflictError } from '../common/domain-error.js';
import type { OnboardingState } from '../generated/prisma/enums.js';

export const ONBOARDING_STATES: readonly OnboardingState[] = ['submitted', 'in_review', 'changes_requested', 'approved', 'rejected', 'withdrawn'];

export type OnboardingEvent =
  | 'start_review'
  /** One environment approved while another requested one still waits for its own approval. */
  | 'approve_partially'
  /** The last requested environment approved. */
  | 'approve'
  /** An approval that lapsed without credentials being issued is given again. */
  | 'renew_approval'
  | 'reject'
  | 'request_changes'
  | 'resubmit'
  | 'withdraw';

export const ONBOARDING_EVENTS: readonly OnboardingEvent[] = [
  'start_review',
  'approve_partially',
  'approve',
  'renew_approval',
  'reject',
  'request_changes',
  'resubmit',
  'withdraw',
];

/**
 * Every allowed move, and nothing else. Approved, rejected and withdrawn are final for the request;
 * after approval only the per-environment approvals move on (issued, or lapsed and renewed).
 */
export const ONBOARDING_TRANSITIONS: Readonly<Record<OnboardingState, Partial<Record<OnboardingEvent, OnboardingState>>>> = {
  submitted: { start_review: 'in_review', withdraw: 'withdrawn' },
  in_review: {
    approve_partially: 'in_review',
    approve: 'approved',
    reject: 'rejected',
    request_changes: 'changes_requested',
    withdraw: 'withdrawn',
  },
  changes_requested: { resubmit: 'submitted', withdraw: 'withdrawn' },
  approved: { renew_approval: 'approved' },
  rejected: {},
  withdrawn: {},
};

export function canTransition(from: OnboardingState, event: OnboardingEvent): boolean {
  return ONBOARDING_TRANSITIONS[from][event] !== undefined;
}

/** The state after `event`, or `onboarding/invalid_transition` (409). */
export function nextState(from: OnboardingState, event: OnboardingEvent): OnboardingState {
  const to = ONBOARDING_TRANSITIONS[from][event];
  if (!to) {
    throw new ConflictError('onboarding/invalid_transition', `A request that is ${from.replace('_', ' ')} cannot be moved by "${event.replace('_', ' ')}".`, {
      state: from,
      event,
      allowed: allowedEvents(from),
    });
  }
  return to;
}

export function allowedEvents(from: OnboardingState): OnboardingEvent[] {
  return ONBOARDING_EVENTS.filter((e) => canTransition(from, e));
}

/** States in which the partner may still withdraw or a reviewer may still act. */
export const OPEN_STATES: readonly OnboardingState[] = ONBOARDING_STATES.filter((s) => canTransition(s, 'withdraw'));
