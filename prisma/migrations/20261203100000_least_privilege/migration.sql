-- Least privilege: migrations run as the role that owns the schema; the service runs as a login role that is a
-- member of the group role credentials_app, which owns nothing and holds only the grants below.
-- Roles are cluster-wide and several databases may share a cluster: create the group role only if missing
-- (an owner role without CREATEROLE then needs it created beforehand, as README "Deploying" shows).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'credentials_app') THEN
    CREATE ROLE credentials_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object THEN
  NULL; -- created by a concurrent migration of another database in the same cluster
END $$;

GRANT USAGE ON SCHEMA public TO credentials_app;

-- Sealing writes the chain head and the sealed row: it runs with its owner's rights, so the service itself
-- needs no UPDATE on either table.
ALTER FUNCTION audit_event_seal() SECURITY DEFINER SET search_path = public, pg_temp;

-- The audit trail: append and read, never change or remove.
GRANT SELECT, INSERT ON audit_event TO credentials_app;
GRANT SELECT ON audit_chain_head TO credentials_app;

-- Read only, so the service can refuse to start while migrations are pending.
GRANT SELECT ON "_prisma_migrations" TO credentials_app;

-- Rows the service keeps for good (state moves by UPDATE; nothing is deleted).
GRANT SELECT, INSERT, UPDATE ON
  api_product, api_environment,
  staff_account, staff_session,
  partner, technical_contact, onboarding_request,
  credential, credential_secret, credential_rotation, oauth_signing_key,
  notification, delivery, delivery_ip_limit
TO credentials_app;

-- Rows the service replaces or prunes.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  staff_recovery_code, staff_pending_login, staff_login_throttle,
  onboarding_request_item, onboarding_approval, intake_rate_limit,
  oauth_revoked_token, oauth_failure_counter
TO credentials_app;
