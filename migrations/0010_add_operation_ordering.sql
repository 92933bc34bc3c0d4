-- Per-order ordering (issue 3): operations on the same order run in the order they were accepted,
-- whichever queue carries them, so that a cancellation accepted after a placement never overtakes it.
-- An operation's ordering key names the order (its number, given at acceptance); seq is the order of
-- acceptance. A worker claims an operation only when no earlier one with its key is still unfinished.

ALTER TABLE operation ADD COLUMN ordering_key text;
ALTER TABLE operation ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;

-- The earlier unfinished operations of a key, found by the claim.
CREATE INDEX operation_ordering_idx ON operation (ordering_key, seq)
  WHERE ordering_key IS NOT NULL AND status IN ('OPEN', 'RETRIABLY_FAILED');
-- cancelOrder finds the placement of an order by its number.
CREATE INDEX operation_ordering_key_idx ON operation (ordering_key) WHERE ordering_key IS NOT NULL;

-- Order numbers as people read them: ORD- and at least 8 digits (more past 10^8). Given at
-- acceptance now, so that the client has the number at once and later operations can name it.
CREATE FUNCTION order_number(n bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT 'ORD-' || lpad(n::text, greatest(8, length(n::text)), '0') $$;
