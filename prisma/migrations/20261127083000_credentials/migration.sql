-- CreateEnum
CREATE TYPE "CredentialState" AS ENUM ('pending_delivery', 'active', 'revoked');
CREATE TYPE "SecretState" AS ENUM ('pending_delivery', 'active', 'retired', 'revoked', 'cancelled');
CREATE TYPE "RotationState" AS ENUM ('awaiting_confirmation', 'awaiting_approval', 'delivering', 'overlap', 'completed', 'cancelled');

-- CreateTable
CREATE TABLE "credential" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "partner_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "onboarding_request_id" UUID,
    "api_environment_id" UUID NOT NULL,
    "environment" "Environment" NOT NULL,
    "state" "CredentialState" NOT NULL DEFAULT 'pending_delivery',
    "issued_by_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "revoked_by_id" UUID,
    "revoke_reason" TEXT,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "credential_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "credential_secret" (
    "id" UUID NOT NULL,
    "credential_id" UUID NOT NULL,
    "secret_hash" CHAR(64) NOT NULL,
    "hint" TEXT NOT NULL,
    "state" "SecretState" NOT NULL DEFAULT 'pending_delivery',
    "slot" INTEGER,
    "delivery_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(6),
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "retires_at" TIMESTAMPTZ(6),
    "ended_at" TIMESTAMPTZ(6),
    "last_used_at" TIMESTAMPTZ(6),
    CONSTRAINT "credential_secret_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "credential_secret_slot_check" CHECK ("slot" IS NULL OR "slot" IN (1, 2)),
    CONSTRAINT "credential_secret_active_slot_check" CHECK (("state" = 'active') = ("slot" IS NOT NULL))
);

CREATE TABLE "credential_rotation" (
    "id" UUID NOT NULL,
    "credential_id" UUID NOT NULL,
    "state" "RotationState" NOT NULL,
    "requested_by_type" "ActorType" NOT NULL,
    "requested_by_id" UUID,
    "confirm_token_hash" CHAR(64),
    "confirm_expires_at" TIMESTAMPTZ(6),
    "confirmed_at" TIMESTAMPTZ(6),
    "approved_by_id" UUID,
    "approved_at" TIMESTAMPTZ(6),
    "overlap_days" INTEGER NOT NULL,
    "old_secret_id" UUID,
    "new_secret_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "credential_rotation_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "oauth_signing_key" (
    "kid" TEXT NOT NULL,
    "environment" "Environment" NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "private_key_enc" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sign_until" TIMESTAMPTZ(6) NOT NULL,
    "publish_until" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "oauth_signing_key_pkey" PRIMARY KEY ("kid")
);

CREATE TABLE "oauth_revoked_token" (
    "jti" TEXT NOT NULL,
    "environment" "Environment" NOT NULL,
    "client_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "revoked_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "oauth_revoked_token_pkey" PRIMARY KEY ("jti")
);

CREATE TABLE "oauth_failure_counter" (
    "bucket" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "reasons" JSONB NOT NULL DEFAULT '{}',
    "summarised_at" TIMESTAMPTZ(6),
    CONSTRAINT "oauth_failure_counter_pkey" PRIMARY KEY ("bucket","window_start")
);

-- CreateIndex
CREATE UNIQUE INDEX "credential_client_id_key" ON "credential"("client_id");
CREATE INDEX "credential_partner_id_idx" ON "credential"("partner_id");
CREATE INDEX "credential_state_idx" ON "credential"("state");
CREATE UNIQUE INDEX "credential_onboarding_request_id_api_environment_id_key" ON "credential"("onboarding_request_id", "api_environment_id");
CREATE UNIQUE INDEX "credential_secret_secret_hash_key" ON "credential_secret"("secret_hash");
CREATE INDEX "credential_secret_credential_id_idx" ON "credential_secret"("credential_id");
CREATE INDEX "credential_secret_expires_at_idx" ON "credential_secret"("expires_at");
-- At most two active secrets per credential (Keycloak's rule): each active secret holds slot 1 or 2.
CREATE UNIQUE INDEX "credential_secret_active_slot_key" ON "credential_secret"("credential_id", "slot") WHERE "state" = 'active';
CREATE INDEX "credential_rotation_credential_id_idx" ON "credential_rotation"("credential_id");
CREATE UNIQUE INDEX "credential_rotation_confirm_token_hash_key" ON "credential_rotation"("confirm_token_hash");
-- One rotation in progress per credential.
CREATE UNIQUE INDEX "credential_rotation_open_key" ON "credential_rotation"("credential_id") WHERE "state" IN ('awaiting_confirmation', 'awaiting_approval', 'delivering', 'overlap');
CREATE INDEX "oauth_signing_key_environment_idx" ON "oauth_signing_key"("environment");
CREATE INDEX "oauth_revoked_token_expires_at_idx" ON "oauth_revoked_token"("expires_at");

-- AddForeignKey
ALTER TABLE "credential" ADD CONSTRAINT "credential_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "credential" ADD CONSTRAINT "credential_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "technical_contact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "credential" ADD CONSTRAINT "credential_api_environment_id_fkey" FOREIGN KEY ("api_environment_id") REFERENCES "api_environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "credential_secret" ADD CONSTRAINT "credential_secret_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "credential_rotation" ADD CONSTRAINT "credential_rotation_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;
