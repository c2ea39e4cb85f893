import { describe, expect, it } from 'vitest';
import { DomainError } from '../common/domain-error.js';
import { ONBOARDING_EVENTS, ONBOARDING_STATES, allowedEvents, nextState, type OnboardingEvent } from './onboarding-request.state.js';
import type { OnboardingState } from '../generated/prisma/enums.js';
import { OnboardingState as StateEnum } from '../generated/prisma/enums.js';

// The whole table written out once more, by hand: any change to the machine must change this spec too.
const EXPECTED: Record<string, OnboardingState> = {
  'submitted/start_review': 'in_review',
  'submitted/withdraw': 'withdrawn',
  'in_review/approve_partially': 'in_review',
  'in_review/approve': 'approved',
  'in_review/reject': 'rejected',
  'in_review/request_changes': 'changes_requested',
  'in_review/withdraw': 'withdrawn',
  'changes_requested/resubmit': 'submitted',
  'changes_requested/withdraw': 'withdrawn',
  'approved/renew_approval': 'approved',
};

describe('onboarding request state machine', () => {
  it('knows every state of the database enum', () => {
    expect([...ONBOARDING_STATES].sort()).toEqual(Object.values(StateEnum).sort());
  });

  const pairs = ONBOARDING_STATES.flatMap((s) => ONBOARDING_EVENTS.map((e) => [s, e] as [OnboardingState, OnboardingEvent]));
  it('walks all 48 (state, event) pairs', () => expect(pairs).toHaveLength(6 * 8));

  it.each(pairs)('%s + %s', (state, event) => {
    const expected = EXPECTED[`${state}/${event}`];
    if (expected) {
      expect(nextState(state, event)).toBe(expected);
      expect(allowedEvents(state)).toContain(event);
    } else {
      let thrown: unknown;
      try {
        nextState(state, event);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect(thrown).toMatchObject({ kind: 'conflict', code: 'onboarding/invalid_transition', details: { state, event } });
      expect(allowedEvents(state)).not.toContain(event);
    }
  });

  it('has final states that nothing leaves', () => {
    expect(allowedEvents('rejected')).toEqual([]);
    expect(allowedEvents('withdrawn')).toEqual([]);
  });
});
