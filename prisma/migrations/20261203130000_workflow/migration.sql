-- What the applicant typed: the status page and partner emails show this, never the recorded partner's name.
ALTER TABLE "onboarding_request" ADD COLUMN "applicant_legal_name" TEXT, ADD COLUMN "applicant_contact_name" TEXT;
UPDATE "onboarding_request" r SET "applicant_legal_name" = p."legal_name" FROM "partner" p WHERE p."id" = r."partner_id";
UPDATE "onboarding_request" r SET "applicant_contact_name" = c."name" FROM "technical_contact" c WHERE c."id" = r."contact_id";
ALTER TABLE "onboarding_request" ALTER COLUMN "applicant_legal_name" SET NOT NULL, ALTER COLUMN "applicant_contact_name" SET NOT NULL;

-- A new contact on a known partner is attached only once a second reviewer agrees.
ALTER TABLE "onboarding_request" ADD COLUMN "contact_vouched_by_id" UUID;
ALTER TABLE "technical_contact" ADD COLUMN "attached_at" TIMESTAMPTZ(6);
UPDATE "technical_contact" SET "attached_at" = "created_at";

-- Ending an overlap before its quiet period: the first reviewer's request, waiting for a second.
ALTER TABLE "credential_rotation" ADD COLUMN "early_end_requested_by_id" UUID, ADD COLUMN "early_end_requested_at" TIMESTAMPTZ(6);

-- Used intake form times (single use), kept until they would have expired anyway.
CREATE TABLE "intake_form_token" (
    "token_hash" CHAR(64) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "intake_form_token_pkey" PRIMARY KEY ("token_hash")
);
CREATE INDEX "intake_form_token_expires_at_idx" ON "intake_form_token"("expires_at");
GRANT SELECT, INSERT, DELETE ON "intake_form_token" TO credentials_app;
