-- Audit trail: the chain is sealed by the service with a keyed MAC (HMAC-SHA-256 under AUDIT_CHAIN_KEY, a key
-- the database never holds), so recomputing the chain after an edit needs that key. Rows are inserted unsealed
-- in the business transaction and sealed right after commit, in batches, through audit_seal() below; writers no
-- longer queue behind one chain lock held through their commit.

-- Rows sealed before this migration keep their unkeyed SHA-256 links; keyed_from is the first keyed seq.
ALTER TABLE "audit_chain_head" ADD COLUMN "keyed_from" BIGINT;
UPDATE "audit_chain_head" SET "keyed_from" = "seq" + 1;
ALTER TABLE "audit_chain_head" ALTER COLUMN "keyed_from" SET NOT NULL;

DROP TRIGGER audit_event_seal_at_commit ON audit_event;
DROP FUNCTION audit_event_seal();

-- The sealer's work list.
CREATE INDEX "audit_event_unsealed_idx" ON "audit_event" ("occurred_at", "id") WHERE "seq" IS NULL;

-- occurred_at is the database's clock (the inserting transaction's start), never a value the writer chose.
CREATE FUNCTION audit_event_refuse_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event.occurred_at is set by the database clock' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_insert_db_time BEFORE INSERT ON audit_event FOR EACH ROW
  WHEN (NEW.occurred_at IS DISTINCT FROM CURRENT_TIMESTAMP)
  EXECUTE FUNCTION audit_event_refuse_time();

-- Seals the given unsealed rows, in the given order, after the head the caller read. The caller computed the
-- MACs (the database cannot: it never holds the key). Returns the new head seq, or -1 when another sealer
-- moved the head first (the caller reads again and retries).
CREATE FUNCTION audit_seal(expected_seq BIGINT, expected_hash TEXT, ids UUID[], hashes TEXT[]) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  head_seq BIGINT;
  head_hash TEXT;
  n INT := coalesce(cardinality(ids), 0);
  sealed INT;
BEGIN
  IF n = 0 OR n <> coalesce(cardinality(hashes), 0) THEN
    RAISE EXCEPTION 'audit_seal needs as many hashes as ids' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  IF head_seq <> expected_seq OR head_hash <> expected_hash THEN
    RETURN -1;
  END IF;
  UPDATE audit_event e
     SET seq = expected_seq + s.ord,
         prev_hash = CASE WHEN s.ord = 1 THEN expected_hash ELSE hashes[s.ord - 1] END,
         hash = s.hash
    FROM unnest(ids, hashes) WITH ORDINALITY AS s(id, hash, ord)
   WHERE e.id = s.id AND e.seq IS NULL;
  GET DIAGNOSTICS sealed = ROW_COUNT;
  IF sealed <> n THEN
    RAISE EXCEPTION 'audit_seal: % of % rows were not unsealed', n - sealed, n USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE audit_chain_head SET seq = expected_seq + n, hash = hashes[n] WHERE id = 1;
  RETURN expected_seq + n;
END $$;
REVOKE ALL ON FUNCTION audit_seal(BIGINT, TEXT, UUID[], TEXT[]) FROM PUBLIC;

-- The head only moves forward, onto the newest sealed row, and keyed_from never changes: the seal is the only
-- writer that can satisfy this.
CREATE FUNCTION audit_chain_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.keyed_from IS DISTINCT FROM OLD.keyed_from OR NEW.seq <= OLD.seq
     OR NOT EXISTS (SELECT 1 FROM audit_event WHERE seq = NEW.seq AND hash = NEW.hash)
     OR EXISTS (SELECT 1 FROM audit_event WHERE seq > NEW.seq) THEN
    RAISE EXCEPTION 'audit_chain_head can only move forward through the seal (UPDATE refused)' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only();

-- The application role writes and reads events and seals them; it cannot update or delete either table.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'credentials_app') THEN
    CREATE ROLE credentials_app NOLOGIN;
  END IF;
END $$;
GRANT SELECT, INSERT ON audit_event TO credentials_app;
GRANT SELECT ON audit_chain_head TO credentials_app;
GRANT EXECUTE ON FUNCTION audit_seal(BIGINT, TEXT, UUID[], TEXT[]) TO credentials_app;
