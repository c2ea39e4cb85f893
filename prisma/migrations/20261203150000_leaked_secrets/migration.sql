-- Why a rotation was opened: 'routine' (staff or the partner asked) or 'leak' (an emergency after a leaked secret).
CREATE TYPE "RotationOrigin" AS ENUM ('routine', 'leak');
ALTER TABLE "credential_rotation" ADD COLUMN "origin" "RotationOrigin" NOT NULL DEFAULT 'routine';

-- A sighting of one of our secrets outside: who reported it, where it was seen, and what we did.
-- The secret itself is never kept: the secret id and a short fingerprint say which one it was.
CREATE TABLE "secret_leak_report" (
    "id" UUID NOT NULL,
    "credential_id" UUID NOT NULL,
    "secret_id" UUID NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "reporter" TEXT NOT NULL,
    "reported_by_id" UUID,
    "source" TEXT,
    "url" TEXT,
    "secret_state_before" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "rotation_id" UUID,
    "reported_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "secret_leak_report_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "secret_leak_report_reporter_check" CHECK ("reporter" IN ('github', 'partner_form', 'staff')),
    CONSTRAINT "secret_leak_report_outcome_check" CHECK ("outcome" IN ('revoked', 'already_inactive'))
);
CREATE INDEX "secret_leak_report_reported_at_idx" ON "secret_leak_report"("reported_at");
CREATE INDEX "secret_leak_report_credential_id_idx" ON "secret_leak_report"("credential_id");
ALTER TABLE "secret_leak_report" ADD CONSTRAINT "secret_leak_report_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credential"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "secret_leak_report" ADD CONSTRAINT "secret_leak_report_secret_id_fkey" FOREIGN KEY ("secret_id") REFERENCES "credential_secret"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Signed scanner alerts already acted on (SHA-256 of the body): a replay answers without acting twice.
CREATE TABLE "secret_scanning_receipt" (
    "digest" CHAR(64) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "secret_scanning_receipt_pkey" PRIMARY KEY ("digest")
);
CREATE INDEX "secret_scanning_receipt_received_at_idx" ON "secret_scanning_receipt"("received_at");

-- Leak reports are evidence: the service adds them, never rewrites them.
GRANT SELECT, INSERT ON "secret_leak_report" TO credentials_app;
GRANT SELECT, INSERT, DELETE ON "secret_scanning_receipt" TO credentials_app;
