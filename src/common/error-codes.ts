/**
 * Every error code the service answers with: its HTTP status and what it means. The error filter maps by this
 * table, DomainError and its subclasses accept only codes listed here (and only with the status of their kind),
 * and the README's error table is generated from it (`npm run docs:errors`). A new code is one line here.
 */
export const ERROR_CODES = {
  // Staff authentication and route policy
  'auth/signin_required': { status: 401, meaning: 'No valid staff session: sign in first.' },
  'auth/sign_in_failed': { status: 401, meaning: 'Email, password or second factor not accepted (the answer never says which).' },
  'auth/code_refused': { status: 401, meaning: 'A TOTP or recovery code was wrong, or tried too often for now.' },
  'auth/csrf_failed': { status: 403, meaning: 'The x-csrf-token header or form token is missing or wrong on a state-changing request.' },
  'auth/role_required': { status: 403, meaning: 'The staff role is below the one this route needs.' },
  'auth/no_policy': { status: 403, meaning: 'The route has no access policy, so it is refused (fail-closed).' },
  'metrics/token_required': { status: 401, meaning: '/metrics needs its bearer token.' },
  // Staff accounts
  'staff/not_found': { status: 404, meaning: 'No staff member with this id.' },
  'staff/email_taken': { status: 409, meaning: 'A staff member with this email address exists already.' },
  'staff/last_admin': { status: 409, meaning: 'The change would leave no enabled admin.' },
  'staff/weak_password': { status: 400, meaning: 'The new password is too short or too long.' },
  // Onboarding and intake
  'onboarding/not_found': { status: 404, meaning: 'No onboarding request with this id.' },
  'onboarding/status_link_unknown': { status: 404, meaning: 'The partner status link is not valid.' },
  'onboarding/no_items': { status: 400, meaning: 'The request names no API and environment.' },
  'onboarding/unknown_api': { status: 400, meaning: 'An API or environment is not in the catalogue.' },
  'onboarding/environment_not_requested': { status: 400, meaning: 'The request does not ask for this environment.' },
  'onboarding/invalid_transition': { status: 409, meaning: 'The request is in a state that does not allow this step.' },
  'onboarding/conflict': { status: 409, meaning: 'Someone else changed the request or approval at the same time.' },
  'onboarding/acceptance_first': { status: 409, meaning: 'Production is approved only after Acceptance.' },
  'onboarding/already_approved': { status: 409, meaning: 'This environment is already approved.' },
  'onboarding/already_issued': { status: 409, meaning: 'Credentials were already issued for this environment.' },
  'onboarding/approval_missing': { status: 409, meaning: 'No approval for this environment to issue credentials from.' },
  'onboarding/approval_expired': { status: 410, meaning: 'The approval lapsed (APPROVAL_TTL_DAYS) and must be given again.' },
  'onboarding/four_eyes': { status: 403, meaning: 'Whoever created, last edited or confirmed the contact of a request cannot approve it.' },
  'onboarding/four_eyes_issue': { status: 403, meaning: 'Whoever approved Production cannot issue its credentials.' },
  'onboarding/contact_unconfirmed': { status: 403, meaning: 'A new technical contact of a known partner must be confirmed by a reviewer first.' },
  'onboarding/contact_already_confirmed': { status: 409, meaning: 'Another reviewer already confirmed this contact.' },
  'onboarding/contact_known': { status: 409, meaning: "The technical contact is already one of the partner's contacts." },
  'onboarding/staff_only': { status: 403, meaning: 'Only staff may take this step.' },
  'intake/form_already_sent': { status: 400, meaning: 'This application form was already submitted once.' },
  'intake/too_fast': { status: 400, meaning: 'The form came back faster than a person fills it in (INTAKE_MIN_FILL_SECONDS), or is too old.' },
  'intake/rate_limited': { status: 429, meaning: 'Too many applications from this network (INTAKE_RATE_LIMIT_PER_HOUR).' },
  'intake/email_rate_limited': { status: 429, meaning: 'Too many applications for this mailbox today (INTAKE_PER_EMAIL_PER_DAY).' },
  'intake/registration_rate_limited': { status: 429, meaning: 'Too many applications for this registration number today (INTAKE_PER_REGISTRATION_PER_DAY).' },
  // API catalogue
  'catalogue/not_found': { status: 404, meaning: 'No such API environment in the catalogue.' },
  'catalogue/invalid_url': { status: 400, meaning: 'The base URL is not a full http(s) URL.' },
  'catalogue/invalid_audience': { status: 400, meaning: 'The audience is empty or longer than 300 characters.' },
  'catalogue/audience_taken': { status: 409, meaning: 'Another API environment uses this audience already.' },
  // Credentials and rotations
  'credential/not_found': { status: 404, meaning: 'No credential with this id.' },
  'credential/secret_not_found': { status: 404, meaning: 'The secret to deliver or activate does not exist.' },
  'credential/revoked': { status: 409, meaning: 'The credential is revoked: nothing is sent or rotated.' },
  'credential/already_revoked': { status: 409, meaning: 'The credential was revoked before.' },
  'credential/not_pending': { status: 409, meaning: 'The secret is no longer waiting to be delivered.' },
  'credential/cannot_activate': { status: 409, meaning: 'The secret is not pending, or two secrets are active already.' },
  'rotation/not_found': { status: 404, meaning: 'No rotation with this id.' },
  'rotation/link_invalid': { status: 404, meaning: "The partner's rotation confirmation link is not valid or has expired." },
  'rotation/invalid_client_id': { status: 400, meaning: 'The client_id does not start with acc_ or prd_.' },
  'rotation/invalid_overlap': { status: 400, meaning: 'The overlap is outside 0 to 90 days.' },
  'rotation/credential_not_active': { status: 409, meaning: 'Only an active credential can be rotated.' },
  'rotation/already_open': { status: 409, meaning: 'A rotation is in progress: cancel it or supersede it.' },
  'rotation/overlap_running': { status: 409, meaning: 'The last rotation is in its overlap: end that first.' },
  'rotation/invalid_transition': { status: 409, meaning: 'The rotation is in a state that does not allow this step.' },
  'rotation/conflict': { status: 409, meaning: 'The rotation changed at the same time.' },
  'rotation/no_overlap': { status: 409, meaning: 'There is no overlap to end.' },
  'rotation/overlap_not_quiet': { status: 409, meaning: 'The old secret was used within OVERLAP_QUIET_HOURS: ending the overlap takes a second reviewer.' },
  'rotation/early_end_already_requested': { status: 409, meaning: 'An early end was already asked for; another reviewer can end it.' },
  'rotation/four_eyes': { status: 403, meaning: 'Whoever started a rotation cannot approve it.' },
  'rotation/staff_only': { status: 403, meaning: 'Only staff may take this step.' },
  // Secret delivery
  'delivery/not_found': { status: 404, meaning: 'The delivery link is not valid.' },
  'delivery/invalid_link': { status: 400, meaning: 'The link token is malformed (copied partly?).' },
  'delivery/invalid_code': { status: 400, meaning: 'The SMS code is not 8 digits.' },
  'delivery/wrong_code': { status: 400, meaning: 'The SMS code is wrong; tries are left.' },
  'delivery/code_expired': { status: 400, meaning: 'The SMS code is past its lifetime: ask for a new one.' },
  'delivery/code_voided': { status: 400, meaning: 'The SMS code was entered wrongly too often: ask for a new one.' },
  'delivery/code_resend_too_soon': { status: 429, meaning: 'A code was sent less than a minute ago.' },
  'delivery/too_many_attempts': { status: 429, meaning: 'Too many wrong codes from this network (per-IP block).' },
  'delivery/too_many_code_requests': { status: 429, meaning: 'Too many codes requested from this network.' },
  'delivery/no_codes_left': { status: 423, meaning: 'All codes of this link were sent.' },
  'delivery/locked': { status: 423, meaning: 'The link locked after its last code failed; staff are alerted.' },
  'delivery/already_revealed': { status: 410, meaning: 'The secret was retrieved before; it is shown once.' },
  'delivery/expired': { status: 410, meaning: 'The link expired (DELIVERY_TTL_DAYS).' },
  'delivery/cancelled': { status: 410, meaning: 'A newer link replaced this one, or the delivery was cancelled.' },
  'delivery/not_revealed': { status: 409, meaning: 'The reveal lost a race with a newer link or another reveal: reload.' },
  'delivery/nothing_pending': { status: 409, meaning: 'There is no undelivered secret to send again.' },
  'delivery/invalid_mobile': { status: 400, meaning: 'The technical contact has no mobile number in international format.' },
  'delivery/invalid_expiry': { status: 400, meaning: 'A delivery must expire in the future.' },
  'delivery/no_issuer': { status: 503, meaning: 'No issuer is registered for this kind of secret (a wiring fault).' },
  'delivery/no_handler': { status: 503, meaning: 'No activation handler is registered for this kind of secret (a wiring fault).' },
  'leak/rate_limited': { status: 429, meaning: 'Too many leak reports from this network in the last hour.' },
  // SIM-swap and line-type checks (Twilio Lookup)
  'delivery/sim_swap_held': { status: 423, meaning: 'The SIM of the number on file changed recently: no code is sent until staff verify the person.' },
  'delivery/number_not_mobile': {
    status: 423,
    meaning: 'The number on file is not a line that receives codes reliably (ALLOWED_LINE_TYPES), and staff did not allow it.',
  },
  'delivery/number_check_unavailable': {
    status: 503,
    meaning: 'The number could not be checked (Lookup failed or timed out): no code was sent; retry shortly.',
  },
  'delivery/clear_reason_required': { status: 400, meaning: 'Clearing a SIM-swap hold needs a reason of 5 to 2000 characters.' },
  'delivery/not_held': { status: 409, meaning: 'The delivery has no SIM-swap hold to clear.' },
  'contact/line_type_refused': { status: 400, meaning: 'The mobile number is not a line that receives codes reliably (VoIP, landline, unknown).' },
  'contact/override_reason_required': { status: 400, meaning: 'Allowing a number for SMS codes needs a reason of 5 to 2000 characters.' },
  // Staff changing their own password
  'auth/password_change_refused': { status: 401, meaning: 'The current password or the authenticator code is wrong (one message for both).' },
  'staff/password_change_invalid': {
    status: 400,
    meaning: 'The password change form is incomplete or the new password is not acceptable; details name the fields.',
  },
  // GitHub secret scanning alerts (their own JSON shape, without the RFC 9457 fields)
  'secret_scanning/disabled': { status: 404, meaning: 'Secret scanning alerts are not accepted here (SECRET_SCANNING_ENABLED is off).' },
  'secret_scanning/signature_missing': { status: 401, meaning: 'The Github-Public-Key-Identifier or Github-Public-Key-Signature header is missing.' },
  'secret_scanning/bad_signature': { status: 401, meaning: 'The signature does not match the exact bytes of the body.' },
  'secret_scanning/unknown_key': { status: 401, meaning: 'The key identifier names no current GitHub signing key.' },
  'secret_scanning/keys_unavailable': { status: 503, meaning: "GitHub's signing keys cannot be read right now; retry later." },
  'secret_scanning/malformed_body': { status: 400, meaning: 'The alert body is not JSON.' },
  'secret_scanning/invalid_payload': { status: 400, meaning: 'The alert is not an array of { token, type, url, source }, or holds too many tokens.' },
  // Token explainer
  'token_explain/rate_limited': { status: 429, meaning: 'Too many token explanations from this network in the last hour (TOKEN_EXPLAIN_PER_IP_PER_HOUR).' },
  // Notifications and signing keys
  'notification/invalid_email': { status: 400, meaning: 'The email address is not valid.' },
  'notification/invalid_mobile': { status: 400, meaning: 'The mobile number is not in international format.' },
  'signing_key/not_found': { status: 404, meaning: 'No signing key with this kid that is not withdrawn already.' },
  'signing_key/reason_required': { status: 400, meaning: 'Withdrawing a key needs a reason.' },
  // The request itself
  'request/validation_failed': { status: 400, meaning: 'Fields are missing or not valid; details name them.' },
  'request/forbidden_field': { status: 400, meaning: 'A field name such as __proto__ is refused.' },
  'request/too_deeply_nested': { status: 400, meaning: 'The body nests deeper than allowed.' },
  'request/malformed_text': { status: 400, meaning: 'Text holds a NUL character or broken Unicode.' },
  'request/malformed_body': { status: 400, meaning: 'The body cannot be read (empty, invalid JSON, wrong length).' },
  'request/bad_url': { status: 400, meaning: 'The URL is malformed.' },
  'request/bad_request': { status: 400, meaning: 'The request could not be routed or read.' },
  'request/not_found': { status: 404, meaning: 'No such route, or nothing has this id.' },
  'request/method_not_allowed': { status: 405, meaning: 'The route does not take this method.' },
  'request/conflict': { status: 409, meaning: 'A unique value exists already, or a concurrent change won.' },
  'request/body_too_large': { status: 413, meaning: 'The body is larger than 256 KiB.' },
  'request/unsupported_media_type': { status: 415, meaning: 'This content type is not accepted here.' },
  'request/rate_limited': { status: 429, meaning: 'Too many requests.' },
  // Ours
  'internal/error': { status: 500, meaning: 'Something failed on our side; quote the correlation id.' },
  'service/database_unavailable': { status: 503, meaning: 'The database cannot be reached; nothing was changed, retry shortly.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose status is S: a ForbiddenError takes only 403 codes, and so on. */
export type ErrorCodeWithStatus<S extends number> = { [C in ErrorCode]: (typeof ERROR_CODES)[C]['status'] extends S ? C : never }[ErrorCode];

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** For the `default` of a switch over a union: a new member that is not handled fails to compile. */
export function assertUnreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
