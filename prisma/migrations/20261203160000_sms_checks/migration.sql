-- Staff allow a contact's number for SMS codes although Lookup calls it no mobile line (checked with the person).
CREATE TABLE "contact_line_override" (
    "contact_id" UUID NOT NULL,
    "line_type" TEXT,
    "reason" TEXT NOT NULL,
    "staff_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "contact_line_override_pkey" PRIMARY KEY ("contact_id"),
    CONSTRAINT "contact_line_override_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "technical_contact"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
GRANT SELECT, INSERT, UPDATE ON "contact_line_override" TO credentials_app;

-- A recent SIM change holds every SMS code of a delivery until staff verified the person and cleared it.
CREATE TABLE "delivery_sim_swap_block" (
    "id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "detected_at" TIMESTAMPTZ(6) NOT NULL,
    "last_swap_at" TIMESTAMPTZ(6),
    "swapped_period" TEXT,
    "reason" TEXT NOT NULL,
    "cleared_at" TIMESTAMPTZ(6),
    "cleared_by_id" UUID,
    "clear_reason" TEXT,
    CONSTRAINT "delivery_sim_swap_block_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "delivery_sim_swap_block_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "delivery_sim_swap_block_delivery_id_idx" ON "delivery_sim_swap_block"("delivery_id");
-- At most one open block per delivery: two concurrent code requests record it once.
CREATE UNIQUE INDEX "delivery_sim_swap_block_open_key" ON "delivery_sim_swap_block"("delivery_id") WHERE "cleared_at" IS NULL;
GRANT SELECT, INSERT, UPDATE ON "delivery_sim_swap_block" TO credentials_app;
