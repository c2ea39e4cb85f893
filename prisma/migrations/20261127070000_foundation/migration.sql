-- CreateEnum
CREATE TYPE "Environment" AS ENUM ('acceptance', 'production');
CREATE TYPE "ActorType" AS ENUM ('staff', 'partner_contact', 'system');
CREATE TYPE "StaffRole" AS ENUM ('viewer', 'reviewer', 'admin');
CREATE TYPE "OnboardingState" AS ENUM ('submitted', 'in_review', 'changes_requested', 'approved', 'rejected', 'withdrawn');
CREATE TYPE "Language" AS ENUM ('nl', 'en');

-- CreateTable
CREATE TABLE "audit_event" (
    "id" UUID NOT NULL,
    "seq" BIGINT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT,
    "action" TEXT NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT,
    "environment" "Environment",
    "correlation_id" TEXT,
    "client_ip" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "prev_hash" CHAR(64),
    "hash" CHAR(64),
    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "audit_chain_head" (
    "id" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" CHAR(64) NOT NULL,
    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "api_product" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_product_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "api_environment" (
    "id" UUID NOT NULL,
    "api_id" UUID NOT NULL,
    "environment" "Environment" NOT NULL,
    "base_url" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_environment_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "staff_account" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "StaffRole" NOT NULL,
    "password_hash" TEXT NOT NULL,
    "totp_secret_enc" TEXT,
    "totp_enrolled_at" TIMESTAMPTZ(6),
    "totp_last_step" BIGINT,
    "failed_logins" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(6),
    "disabled_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "staff_account_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "staff_recovery_code" (
    "id" UUID NOT NULL,
    "staff_id" UUID NOT NULL,
    "code_hash" CHAR(64) NOT NULL,
    "used_at" TIMESTAMPTZ(6),
    CONSTRAINT "staff_recovery_code_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "staff_session" (
    "id" UUID NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "staff_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "revoked_at" TIMESTAMPTZ(6),
    "ip" TEXT,
    "user_agent" TEXT,
    CONSTRAINT "staff_session_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "partner" (
    "id" UUID NOT NULL,
    "legal_name" TEXT NOT NULL,
    "registration_number" TEXT NOT NULL,
    "country" CHAR(2) NOT NULL,
    "business_representative" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "partner_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "technical_contact" (
    "id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "mobile" TEXT NOT NULL,
    "language" "Language" NOT NULL DEFAULT 'en',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "technical_contact_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "onboarding_request" (
    "id" UUID NOT NULL,
    "reference" TEXT NOT NULL,
    "partner_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "language" "Language" NOT NULL DEFAULT 'en',
    "state" "OnboardingState" NOT NULL DEFAULT 'submitted',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_by_staff_id" UUID,
    "last_edited_by_id" UUID,
    "decision_reason" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "onboarding_request_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "onboarding_request_item" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "api_environment_id" UUID NOT NULL,
    CONSTRAINT "onboarding_request_item_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "onboarding_approval" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "environment" "Environment" NOT NULL,
    "approved_by_id" UUID NOT NULL,
    "approved_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "issued_at" TIMESTAMPTZ(6),
    CONSTRAINT "onboarding_approval_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_seq_key" ON "audit_event"("seq");
CREATE INDEX "audit_event_subject_type_subject_id_idx" ON "audit_event"("subject_type", "subject_id");
CREATE INDEX "audit_event_actor_id_idx" ON "audit_event"("actor_id");
CREATE INDEX "audit_event_action_idx" ON "audit_event"("action");
CREATE INDEX "audit_event_occurred_at_idx" ON "audit_event"("occurred_at");
CREATE INDEX "audit_event_correlation_id_idx" ON "audit_event"("correlation_id");
CREATE UNIQUE INDEX "api_product_key_key" ON "api_product"("key");
CREATE UNIQUE INDEX "api_environment_audience_key" ON "api_environment"("audience");
CREATE UNIQUE INDEX "api_environment_api_id_environment_key" ON "api_environment"("api_id", "environment");
CREATE UNIQUE INDEX "staff_account_email_key" ON "staff_account"("email");
CREATE UNIQUE INDEX "staff_recovery_code_code_hash_key" ON "staff_recovery_code"("code_hash");
CREATE UNIQUE INDEX "staff_session_token_hash_key" ON "staff_session"("token_hash");
CREATE INDEX "staff_session_staff_id_idx" ON "staff_session"("staff_id");
CREATE INDEX "partner_registration_number_country_idx" ON "partner"("registration_number", "country");
CREATE INDEX "technical_contact_partner_id_idx" ON "technical_contact"("partner_id");
CREATE UNIQUE INDEX "onboarding_request_reference_key" ON "onboarding_request"("reference");
CREATE INDEX "onboarding_request_state_idx" ON "onboarding_request"("state");
CREATE UNIQUE INDEX "onboarding_request_item_request_id_api_environment_id_key" ON "onboarding_request_item"("request_id", "api_environment_id");
CREATE UNIQUE INDEX "onboarding_approval_request_id_environment_key" ON "onboarding_approval"("request_id", "environment");

-- AddForeignKey
ALTER TABLE "api_environment" ADD CONSTRAINT "api_environment_api_id_fkey" FOREIGN KEY ("api_id") REFERENCES "api_product"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "staff_recovery_code" ADD CONSTRAINT "staff_recovery_code_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "staff_session" ADD CONSTRAINT "staff_session_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "technical_contact" ADD CONSTRAINT "technical_contact_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "onboarding_request" ADD CONSTRAINT "onboarding_request_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "onboarding_request_item" ADD CONSTRAINT "onboarding_request_item_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "onboarding_request"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "onboarding_approval" ADD CONSTRAINT "onboarding_approval_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "onboarding_request"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Audit trail: append-only and hash-chained (not expressible in schema.prisma).
-- The canonical text of an event; audit verification recomputes the same expression independently.
CREATE FUNCTION audit_event_canonical(e "audit_event", s BIGINT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_array(
    s, e.id::text, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text, e.actor_type::text, e.actor_id,
    e.action, e.subject_type, e.subject_id, e.environment::text, e.correlation_id, e.client_ip, e.detail
  )::text
$$;

INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64));

-- Runs at commit (deferred): the chain head row lock is held only for the last instant of each transaction.
CREATE FUNCTION audit_event_seal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prev CHAR(64);
  next_seq BIGINT;
  next_hash CHAR(64);
BEGIN
  SELECT hash, seq + 1 INTO prev, next_seq FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  next_hash := encode(sha256(convert_to(prev || audit_event_canonical(NEW, next_seq), 'UTF8')), 'hex');
  UPDATE audit_chain_head SET seq = next_seq, hash = next_hash WHERE id = 1;
  UPDATE audit_event SET seq = next_seq, prev_hash = prev, hash = next_hash WHERE id = NEW.id;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER audit_event_seal_at_commit AFTER INSERT ON audit_event
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_event_seal();

CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE EXCEPTION 'audit_event rows are sealed by the database, not by the writer' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Append-only. The WHEN clauses keep the normal path (an unsealed insert, then its sealing) free of
-- any function call; the only update allowed is the sealing of an unsealed row, content unchanged.
CREATE TRIGGER audit_event_insert_unsealed BEFORE INSERT ON audit_event FOR EACH ROW
  WHEN (NEW.seq IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.prev_hash IS NOT NULL)
  EXECUTE FUNCTION audit_event_refuse();
CREATE TRIGGER audit_event_update_only_to_seal BEFORE UPDATE ON audit_event FOR EACH ROW
  WHEN (NOT (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND
    (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.action, OLD.subject_type, OLD.subject_id,
     OLD.environment, OLD.correlation_id, OLD.client_ip, OLD.detail)
    IS NOT DISTINCT FROM
    (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.action, NEW.subject_type, NEW.subject_id,
     NEW.environment, NEW.correlation_id, NEW.client_ip, NEW.detail)))
  EXECUTE FUNCTION audit_event_refuse();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event FOR EACH ROW
  EXECUTE FUNCTION audit_event_refuse();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse();

CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_chain_head can only move forward (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();

-- API catalogue (editable by admins later; seeded here).
INSERT INTO "api_product" ("id", "key", "name") VALUES
  ('6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0001', 'business', 'Business API'),
  ('6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0002', 'cafetariaplan', 'Cafetariaplan API'),
  ('6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0003', 'communities', 'Communities API');
INSERT INTO "api_environment" ("id", "api_id", "environment", "base_url", "audience") VALUES
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0011', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0001', 'acceptance', 'https://business-api.acceptance.example.com', 'https://business-api.acceptance.example.com'),
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0012', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0001', 'production', 'https://business-api.example.com', 'https://business-api.example.com'),
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0021', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0002', 'acceptance', 'https://cafetariaplan-api.acceptance.example.com', 'https://cafetariaplan-api.acceptance.example.com'),
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0022', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0002', 'production', 'https://cafetariaplan-api.example.com', 'https://cafetariaplan-api.example.com'),
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0031', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0003', 'acceptance', 'https://communities-api.acceptance.example.com', 'https://communities-api.acceptance.example.com'),
  ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0032', '6f1c6f52-3b1e-4c43-9a0e-0b7f4c1a0003', 'production', 'https://communities-api.example.com', 'https://communities-api.example.com');
