-- A delivery's link token and sealed secret are made when its email is sent, not when it is created:
-- until then the row holds neither.
ALTER TABLE "delivery" ALTER COLUMN "token_hash" DROP NOT NULL;

-- Which SECRET_HASH_KEY made a client secret's hash (its key id); NULL for hashes made before key ids.
ALTER TABLE "credential_secret" ADD COLUMN "secret_hash_kid" TEXT;

-- A signing key withdrawn before its time: out of the JWKS, its tokens inactive at introspection.
ALTER TABLE "oauth_signing_key" ADD COLUMN "withdrawn_at" TIMESTAMPTZ(6);
ALTER TABLE "oauth_signing_key" ADD COLUMN "withdrawn_reason" TEXT;
