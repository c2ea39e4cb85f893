-- Token requests per API x environment x day (UTC), kept as counters: each instance adds its in-memory
-- counts every few seconds with one upsert, so the token path never writes a row per request.
CREATE TABLE "token_request_daily" (
    "api_key"     TEXT NOT NULL,
    "environment" "Environment" NOT NULL,
    -- 00:00 UTC of the day counted.
    "day"         TIMESTAMPTZ(6) NOT NULL,
    "count"       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "token_request_daily_pkey" PRIMARY KEY ("api_key", "environment", "day")
);

-- Each reviewer's last digest: when, and the keys of the items it covered (a later digest lists only
-- items not among them). Claimed with a conditional UPDATE, so several instances send one per batch.
CREATE TABLE "reviewer_digest" (
    "staff_id"     UUID NOT NULL,
    "last_sent_at" TIMESTAMPTZ(6) NOT NULL,
    "sent_keys"    TEXT[] NOT NULL DEFAULT '{}',
    CONSTRAINT "reviewer_digest_pkey" PRIMARY KEY ("staff_id"),
    CONSTRAINT "reviewer_digest_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE ON "token_request_daily" TO credentials_app;
GRANT SELECT, INSERT, UPDATE ON "reviewer_digest" TO credentials_app;
