/**
 * Plain-language names for every audit action code, so the console's audit trail reads as sentences
 * rather than codes. audit-actions.spec.ts fails when code under src/ writes an action not listed here.
 */
export type AuditCategory =
  'onboarding' | 'credentials' | 'delivery' | 'staff' | 'sign_in' | 'partners' | 'oauth' | 'keys' | 'audit' | 'notifications' | 'catalogue';

export const AUDIT_CATEGORIES: Record<AuditCategory, string> = {
  onboarding: 'Onboarding requests',
  credentials: 'Credentials and rotation',
  delivery: 'Secret delivery',
  staff: 'Staff accounts',
  sign_in: 'Sign-in and sessions',
  partners: 'Partners and contacts',
  oauth: 'Token service and signing keys',
  keys: 'Encryption keys',
  audit: 'Audit trail',
  notifications: 'Emails and text messages',
  catalogue: 'API catalogue',
};

export const AUDIT_ACTIONS: Record<string, { category: AuditCategory; text: string }> = {
  'onboarding.submitted': { category: 'onboarding', text: 'Onboarding request submitted' },
  'onboarding.edited': { category: 'onboarding', text: 'Onboarding request edited' },
  'onboarding.review_started': { category: 'onboarding', text: 'Review started' },
  'onboarding.contact_confirmed': { category: 'onboarding', text: 'New technical contact confirmed with the partner' },
  'onboarding.approved': { category: 'onboarding', text: 'Access approved' },
  'onboarding.approval_renewed': { category: 'onboarding', text: 'Expired approval given again' },
  'onboarding.approval_used': { category: 'onboarding', text: 'Approval used to issue credentials' },
  'onboarding.rejected': { category: 'onboarding', text: 'Onboarding request rejected' },
  'onboarding.changes_requested': { category: 'onboarding', text: 'Changes asked of the partner' },
  'onboarding.resubmitted': { category: 'onboarding', text: 'Partner sent the request again after changes' },
  'onboarding.withdrawn': { category: 'onboarding', text: 'Onboarding request withdrawn' },

  'credential.issued': { category: 'credentials', text: 'Credential issued' },
  'credential.secret_activated': { category: 'credentials', text: 'Secret started working (revealed by the partner)' },
  'credential.secret_expired': { category: 'credentials', text: 'Secret expired' },
  'credential.revoked': { category: 'credentials', text: 'Credential revoked' },
  'credential.redelivered': { category: 'credentials', text: 'Secret sent again (previous link cancelled)' },
  'credential.rotation_requested': { category: 'credentials', text: 'Secret rotation asked for' },
  'credential.rotation_confirmed': { category: 'credentials', text: 'Partner confirmed the rotation request' },
  'credential.rotation_approved': { category: 'credentials', text: 'Secret rotation approved' },
  'credential.rotation_cancelled': { category: 'credentials', text: 'Secret rotation cancelled' },
  'credential.rotation_superseded': { category: 'credentials', text: 'Secret rotation replaced by a newer one' },
  'credential.overlap_early_end_requested': { category: 'credentials', text: 'Early end of the rotation overlap asked for' },
  'credential.overlap_ended': { category: 'credentials', text: 'Rotation overlap ended: the old secret stopped working' },
  'credential.secret_leak_reported': { category: 'credentials', text: 'Secret reported as leaked' },
  'credential.secret_leaked_revoked': { category: 'credentials', text: 'Leaked secret stopped working' },
  'partner.credentials_revoked': { category: 'credentials', text: "All of a partner's credentials revoked" },

  'delivery.created': { category: 'delivery', text: 'Secret delivery prepared' },
  'delivery.sim_swap_blocked': { category: 'delivery', text: 'Delivery codes held: the SIM of the number on file changed recently' },
  'delivery.sim_swap_cleared': { category: 'delivery', text: 'SIM-swap hold cleared after the person was verified' },
  'delivery.link_made': { category: 'delivery', text: 'Delivery link emailed' },
  'delivery.code_sent': { category: 'delivery', text: 'Delivery code sent by text message' },
  'delivery.code_rejected': { category: 'delivery', text: 'Wrong delivery code entered' },
  'delivery.locked': { category: 'delivery', text: 'Delivery locked after too many wrong codes' },
  'delivery.revealed': { category: 'delivery', text: 'Secret revealed to the technical contact' },
  'delivery.expired': { category: 'delivery', text: 'Delivery link expired unused' },
  'delivery.cancelled': { category: 'delivery', text: 'Delivery cancelled' },

  'staff.created': { category: 'staff', text: 'Staff member added' },
  'staff.role_changed': { category: 'staff', text: 'Staff role changed' },
  'staff.disabled': { category: 'staff', text: 'Staff account disabled' },
  'staff.enabled': { category: 'staff', text: 'Staff account enabled again' },
  'staff.totp_reset': { category: 'staff', text: 'Second factor reset by an admin' },
  'staff.sign_in_reset': { category: 'staff', text: 'Sign-in reset by an admin (new one-time password)' },
  'staff.totp_enrolled': { category: 'sign_in', text: 'Authenticator app set up' },
  'staff.recovery_codes_regenerated': { category: 'sign_in', text: 'New recovery codes made' },
  'staff.recovery_codes_refused': { category: 'sign_in', text: 'New recovery codes refused (wrong code)' },
  'staff.password_changed': { category: 'sign_in', text: 'Password changed' },
  'staff.password_change_refused': { category: 'sign_in', text: 'Password change refused' },
  'staff.password_accepted': { category: 'sign_in', text: 'Password accepted (second step next)' },
  'staff.signed_in': { category: 'sign_in', text: 'Signed in' },
  'staff.sign_in_failed': { category: 'sign_in', text: 'Sign-in failed' },
  'staff.sign_in_refused': { category: 'sign_in', text: 'Sign-in refused' },
  'staff.sign_in_locked': { category: 'sign_in', text: 'Sign-in locked after too many attempts' },
  'staff.signed_out': { category: 'sign_in', text: 'Signed out' },
  'staff.signed_out_everywhere': { category: 'sign_in', text: 'Signed out everywhere' },

  'partner.created': { category: 'partners', text: 'Partner organisation registered' },
  'technical_contact.created': { category: 'partners', text: 'Technical contact added' },
  'technical_contact.attached': { category: 'partners', text: 'Technical contact attached to the partner' },
  'technical_contact.line_type_overridden': { category: 'partners', text: 'Number allowed for SMS codes although it is not a mobile line' },

  'oauth.client_guessing_suspected': { category: 'oauth', text: 'Possible guessing of a client secret' },
  'oauth.token_failures_summarised': { category: 'oauth', text: 'Failed token requests summarised' },
  'oauth.signing_key_prepublished': { category: 'oauth', text: 'Next token signing key published' },
  'oauth.signing_key_rotated': { category: 'oauth', text: 'Token signing key rotated' },
  'oauth.signing_key_withdrawn': { category: 'oauth', text: 'Old token signing key withdrawn' },

  'keys.resealed': { category: 'keys', text: 'Stored secrets re-encrypted under the current master key' },
  'audit.checkpoint_requested': { category: 'audit', text: 'Audit checkpoint signed' },
  'audit.checkpoint_mailed': { category: 'audit', text: 'Audit checkpoint emailed' },
  'notification.failed': { category: 'notifications', text: 'Email or text message could not be sent' },
  'notification.outcome_unknown': { category: 'notifications', text: 'Email or text message outcome unknown' },
  'catalogue.updated': { category: 'catalogue', text: 'API catalogue entry changed' },
};

export const SUBJECT_TYPES: Record<string, string> = {
  onboarding_request: 'Onboarding request',
  credential: 'Credential',
  credential_secret: 'Credential secret',
  partner: 'Partner',
  staff_account: 'Staff account',
  api_environment: 'API catalogue entry',
  oauth_client: 'OAuth client',
  oauth_signing_key: 'Token signing key',
  client_ip: 'Client address',
  audit_chain: 'Audit trail',
  master_key: 'Master key',
};

const STATES: Record<string, string> = {
  submitted: 'Submitted',
  in_review: 'In review',
  changes_requested: 'Changes requested',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

const ENVIRONMENTS: Record<string, string> = { acceptance: 'Acceptance', production: 'Production' };

export function describeAction(action: string): string {
  return AUDIT_ACTIONS[action]?.text ?? action;
}

export function actionsIn(category: string): string[] {
  return Object.entries(AUDIT_ACTIONS)
    .filter(([, a]) => a.category === category)
    .map(([code]) => code);
}

export function subjectTypeLabel(type: string): string {
  return SUBJECT_TYPES[type] ?? type.replace(/_/g, ' ');
}

/** A state change in words: "In review → Approved", or "stayed In review" when one environment of several was approved. */
export function describeTransition(detail: Record<string, unknown>): string | null {
  const from = typeof detail.from === 'string' ? detail.from : null;
  const to = typeof detail.to === 'string' ? detail.to : null;
  if (!from || !to) return null;
  const name = (s: string) => STATES[s] ?? ENVIRONMENTS[s] ?? s.replace(/_/g, ' ');
  return from === to ? `Stayed ${name(from)}` : `${name(from)} → ${name(to)}`;
}
