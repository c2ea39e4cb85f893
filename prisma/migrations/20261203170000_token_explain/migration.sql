-- Failed token requests, one row each (bounded and kept a few days): staff look them up by correlation id.
CREATE TABLE "oauth_token_failure" (
    "id" UUID NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "environment" "Environment",
    "client_id" TEXT,
    "ip" TEXT,
    "status" INTEGER NOT NULL,
    "error" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "api_key" TEXT,
    "credential_id" UUID,
    CONSTRAINT "oauth_token_failure_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "oauth_token_failure_correlation_id_idx" ON "oauth_token_failure"("correlation_id");
CREATE INDEX "oauth_token_failure_client_id_occurred_at_idx" ON "oauth_token_failure"("client_id", "occurred_at");
CREATE INDEX "oauth_token_failure_occurred_at_idx" ON "oauth_token_failure"("occurred_at");
GRANT SELECT, INSERT, DELETE ON "oauth_token_failure" TO credentials_app;

-- The public token explainer's per-IP request counter (fixed windows, IP kept only as an HMAC).
CREATE TABLE "token_explain_rate_limit" (
    "bucket" CHAR(64) NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "token_explain_rate_limit_pkey" PRIMARY KEY ("bucket","window_start")
);
CREATE INDEX "token_explain_rate_limit_window_start_idx" ON "token_explain_rate_limit"("window_start");
GRANT SELECT, INSERT, UPDATE, DELETE ON "token_explain_rate_limit" TO credentials_app;
