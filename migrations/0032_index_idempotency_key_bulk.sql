-- Retention keeps a bulk while an idempotency key still answers with it (a replayed upload reads its
-- answer's items from the bulk's operations; keys may be kept longer than bulks): the look-up of a
-- bulk's key, once per candidate bulk, by this index.
CREATE INDEX idempotency_key_bulk_uuid_idx ON idempotency_key (bulk_uuid) WHERE bulk_uuid IS NOT NULL;
