-- Partner pages: each API environment names the API's documentation, shown on the secret page, in the
-- retrieval notice and on the public environments page.
ALTER TABLE "api_environment" ADD COLUMN "docs_url" TEXT;

UPDATE "api_environment" SET "docs_url" = CASE "id"
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0011' THEN 'https://developer.example.com/business-api/acceptance'
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0012' THEN 'https://developer.example.com/business-api'
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0021' THEN 'https://developer.example.com/cafetariaplan-api/acceptance'
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0022' THEN 'https://developer.example.com/cafetariaplan-api'
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0031' THEN 'https://developer.example.com/communities-api/acceptance'
  WHEN '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0032' THEN 'https://developer.example.com/communities-api'
END
WHERE "id" IN ('7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0011', '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0012', '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0021',
               '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0022', '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0031', '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0032');

-- The status link is sent again in the approval and "changes requested" emails, which staff actions cause
-- long after the partner saw it: the token is kept sealed under the master key (AES-256-GCM, bound to the
-- request id), never in plaintext; lookups still go through status_token_hash.
ALTER TABLE "onboarding_request" ADD COLUMN "status_token_enc" TEXT;
