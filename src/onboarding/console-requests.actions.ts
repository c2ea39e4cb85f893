import type { Environment } from '../generated/prisma/enums.js';
import { ROLE_RANK } from '../common/auth.decorators.js';
import { canTransition } from './onboarding-request.state.js';
import type { OnboardingRequestView } from './onboarding.types.js';

/** What the signed-in staff member may do now, with the reason when an approval is not theirs to give. */
export function actionsFor(r: OnboardingRequestView, staff: { staffId: string; role: 'viewer' | 'reviewer' | 'admin' }) {
  const acts = ROLE_RANK[staff.role] >= ROLE_RANK.reviewer;
  const requested = [...new Set(r.items.map((i) => i.environment))].sort();
  const live = (env: Environment) => r.approvals.some((a) => a.environment === env && a.status !== 'expired');
  const ownWork = staff.staffId === r.createdByStaffId || staff.staffId === r.lastEditedById;
  // An environment issued before a resubmission may be confirmed when it is the last decision missing.
  const confirmable = (env: Environment) =>
    r.state === 'in_review' && r.approvals.some((a) => a.environment === env && a.status === 'issued') && requested.every((e) => e === env || live(e));
  const approvals = requested
    .filter((env) => !live(env) || confirmable(env))
    .map((env) => {
      const event = r.state === 'approved' ? 'renew_approval' : 'approve';
      let blocked: string | null = null;
      if (!canTransition(r.state, event)) blocked = 'not in review';
      else if (ownWork) blocked = 'You created or last edited this request: another reviewer must approve it (four-eyes).';
      else if (!r.contact.attached && !r.contactVouchedById)
        blocked =
          'This request names a new technical contact for a known partner: a reviewer must confirm the contact first, and another reviewer approves (four-eyes).';
      else if (!r.contact.attached && r.contactVouchedById === staff.staffId)
        blocked = 'You confirmed the new technical contact: another reviewer must approve this request (four-eyes).';
      else if (env === 'production' && requested.includes('acceptance') && !live('acceptance')) blocked = 'Approve Acceptance first.';
      return { environment: env, blocked };
    })
    .filter((a) => a.blocked !== 'not in review');
  // Production access takes two different staff: whoever approved Production does not issue it.
  const issues = r.approvals
    .filter((a) => a.status === 'valid')
    .map((a) => ({
      environment: a.environment,
      blocked:
        a.environment === 'production' && a.approvedById === staff.staffId
          ? 'You approved Production: another reviewer must issue its credentials (four-eyes).'
          : null,
    }));
  return {
    any: acts,
    startReview: acts && canTransition(r.state, 'start_review'),
    confirmContact: acts && !r.contact.attached && !r.contactVouchedById && (r.state === 'submitted' || r.state === 'in_review'),
    issues: acts ? issues : [],
    approvals: acts ? approvals : [],
    reject: acts && canTransition(r.state, 'reject'),
    requestChanges: acts && canTransition(r.state, 'request_changes'),
    withdraw: acts && canTransition(r.state, 'withdraw'),
  };
}
