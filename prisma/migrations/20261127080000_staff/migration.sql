-- Staff identity (issue 3): first-sign-in password change, pending second-factor logins, sign-in throttling.

-- CreateEnum
CREATE TYPE "StaffPendingPurpose" AS ENUM ('second_factor', 'enrol');

-- AlterTable
ALTER TABLE "staff_account" ADD COLUMN "must_change_password" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "password_expires_at" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "staff_pending_login" (
    "id" UUID NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "staff_id" UUID NOT NULL,
    "purpose" "StaffPendingPurpose" NOT NULL,
    "totp_secret_enc" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "consumed_at" TIMESTAMPTZ(6),
    "ip" TEXT,

    CONSTRAINT "staff_pending_login_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_login_throttle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "last_failure_at" TIMESTAMPTZ(6),
    "locked_until" TIMESTAMPTZ(6),

    CONSTRAINT "staff_login_throttle_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "staff_pending_login_token_hash_key" ON "staff_pending_login"("token_hash");

-- CreateIndex
CREATE INDEX "staff_pending_login_staff_id_idx" ON "staff_pending_login"("staff_id");

-- AddForeignKey
ALTER TABLE "staff_pending_login" ADD CONSTRAINT "staff_pending_login_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
