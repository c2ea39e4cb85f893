-- Onboarding (issue 3): status links, review bookkeeping, partner de-duplication, intake rate limit.

-- AlterTable
ALTER TABLE "onboarding_request" ADD COLUMN "status_token_hash" CHAR(64),
ADD COLUMN "review_started_by_id" UUID,
ADD COLUMN "withdrawn_reason" TEXT;

-- CreateTable
CREATE TABLE "intake_rate_limit" (
    "bucket" CHAR(64) NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "intake_rate_limit_pkey" PRIMARY KEY ("bucket","window_start")
);

-- A partner is one organisation per (registration number, country): reused when it applies again.
DROP INDEX "partner_registration_number_country_idx";
CREATE UNIQUE INDEX "partner_registration_number_country_key" ON "partner"("registration_number", "country");

-- CreateIndex
CREATE UNIQUE INDEX "onboarding_request_status_token_hash_key" ON "onboarding_request"("status_token_hash");
CREATE INDEX "onboarding_request_partner_id_idx" ON "onboarding_request"("partner_id");
CREATE INDEX "onboarding_request_contact_id_idx" ON "onboarding_request"("contact_id");
CREATE INDEX "onboarding_request_item_api_environment_id_idx" ON "onboarding_request_item"("api_environment_id");
CREATE INDEX "intake_rate_limit_window_start_idx" ON "intake_rate_limit"("window_start");
CREATE INDEX "technical_contact_email_idx" ON "technical_contact"("email");

-- AddForeignKey (kept in SQL only, without back-relations on the foundation models)
ALTER TABLE "onboarding_request" ADD CONSTRAINT "onboarding_request_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "technical_contact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "onboarding_request_item" ADD CONSTRAINT "onboarding_request_item_api_environment_id_fkey" FOREIGN KEY ("api_environment_id") REFERENCES "api_environment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A version only moves forward, one step at a time, with every change of the row.
ALTER TABLE "onboarding_request" ADD CONSTRAINT "onboarding_request_version_positive" CHECK ("version" >= 1);
