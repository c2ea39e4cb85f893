-- CreateEnum
CREATE TYPE "NotificationChannel" AS ENUM ('email', 'sms');
CREATE TYPE "NotificationStatus" AS ENUM ('queued', 'sending', 'sent', 'failed', 'unknown');
CREATE TYPE "DeliveryState" AS ENUM ('pending', 'revealed', 'expired', 'locked', 'cancelled');

-- CreateTable
CREATE TABLE "notification" (
    "id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "channel" "NotificationChannel" NOT NULL,
    "template" TEXT NOT NULL,
    "language" "Language" NOT NULL,
    "recipient_masked" TEXT NOT NULL,
    "title" TEXT,
    "subject_type" TEXT,
    "subject_id" TEXT,
    "status" "NotificationStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "provider_id" TEXT,
    "provider_reason" TEXT,
    "payload_enc" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    CONSTRAINT "notification_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "delivery" (
    "id" UUID NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "contact_id" TEXT NOT NULL,
    "recipient_name" TEXT NOT NULL,
    "recipient_email" TEXT NOT NULL,
    "recipient_mobile" TEXT NOT NULL,
    "language" "Language" NOT NULL,
    "display" JSONB NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "secret_enc" TEXT,
    "hotp_secret_enc" TEXT NOT NULL,
    "hotp_counter" INTEGER NOT NULL DEFAULT 0,
    "codes_sent" INTEGER NOT NULL DEFAULT 0,
    "code_sent_at" TIMESTAMPTZ(6),
    "code_expires_at" TIMESTAMPTZ(6),
    "code_wrong" INTEGER NOT NULL DEFAULT 0,
    "wrong_total" INTEGER NOT NULL DEFAULT 0,
    "state" "DeliveryState" NOT NULL DEFAULT 'pending',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "revealed_at" TIMESTAMPTZ(6),
    "revealed_ip" TEXT,
    "closed_at" TIMESTAMPTZ(6),
    "closed_reason" TEXT,
    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "delivery_ip_limit" (
    "delivery_id" UUID NOT NULL,
    "ip" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "wrong_codes" INTEGER NOT NULL DEFAULT 0,
    "code_requests" INTEGER NOT NULL DEFAULT 0,
    "blocked_until" TIMESTAMPTZ(6),
    CONSTRAINT "delivery_ip_limit_pkey" PRIMARY KEY ("delivery_id","ip")
);

-- CreateIndex
CREATE UNIQUE INDEX "notification_idempotency_key_key" ON "notification"("idempotency_key");
CREATE INDEX "notification_subject_type_subject_id_idx" ON "notification"("subject_type", "subject_id");
CREATE INDEX "notification_status_idx" ON "notification"("status");
CREATE UNIQUE INDEX "delivery_token_hash_key" ON "delivery"("token_hash");
CREATE INDEX "delivery_subject_type_subject_id_idx" ON "delivery"("subject_type", "subject_id");
CREATE INDEX "delivery_state_expires_at_idx" ON "delivery"("state", "expires_at");

-- AddForeignKey
ALTER TABLE "delivery_ip_limit" ADD CONSTRAINT "delivery_ip_limit_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
