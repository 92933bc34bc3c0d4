-- The event store (issue 4, "Event store and aggregates"): one append-only table of every event of
-- every stream. A stream is one aggregate instance (`order-<uuid>`, `inventory-<sku>`); its events
-- are numbered 1, 2, 3… by stream_version, and an append names the version it expects the stream
-- to be at. Two writers that loaded the same version both try to insert the same next version:
-- the UNIQUE (stream_id, stream_version) constraint lets exactly one commit and fails the other
-- with SQLSTATE 23505 on event_stream_version_key, which src/events/store.ts turns into a
-- StreamVersionConflictError (emmett's appendToStream, house style point 9).
--
-- What `position` means: a number unique across all streams, taken from the identity sequence when
-- the row is inserted, so it grows with insertion order and, within one stream, with
-- stream_version. It is NOT the order of commit: a transaction that inserted position 41 may commit
-- after another one's 42, and a rolled-back append leaves a gap forever. A reader that reads all
-- events by position (projections) can therefore see 42 before 41 exists for it. Reading by
-- position is exact for a rebuild over a quiet log; a catch-up reader running alongside writers
-- needs more before it is wired in: either a transaction id column
-- (`xid8 DEFAULT pg_current_xact_id()`) and reading only below the oldest transaction still in
-- progress (`pg_snapshot_xmin(pg_current_snapshot())`), as emmett's PostgreSQL store does, or a
-- lock that makes appends commit in position order.
--
-- Immutability: rows are never updated or deleted; a trigger refuses UPDATE, DELETE and TRUNCATE
-- for every role, the table's owner included (grants alone would not stop the owner, and the
-- gateway connects as the owner). Retention, when it comes, deletes whole streams only (never a
-- stream's first events, so versions still start at 1), of orders finished before the retention
-- period, after projections have consumed them; it would run as a dedicated role
-- (`event_retention`, NOLOGIN, granted to the retention worker's user), and this function would
-- let a DELETE through when `pg_has_role(current_user, 'event_retention', 'MEMBER')`, and still
-- refuse UPDATE and TRUNCATE to everyone.

CREATE TABLE event (
  -- Global order of insertion (see above); bigint, as the log outlives any int4.
  position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Room for `inventory-` and a SKU of up to 500 characters (validatePlaceOrder's limit).
  stream_id      text NOT NULL CHECK (stream_id <> '' AND length(stream_id) <= 1000),
  -- 1 for a stream's first event, then one more for each; 0 is "no stream" and never stored.
  stream_version integer NOT NULL CHECK (stream_version >= 1),
  -- The event's name, as the `type` of the TypeScript unions in src/domain/*/events.ts.
  type           text NOT NULL CHECK (type <> '' AND length(type) <= 100),
  data           jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
  -- { correlationId: the bulk's UUID, causationId: the operation (or job, or event) that caused it, … }
  metadata       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  -- The appending transaction's start (now()): every event of one append has the same time.
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  -- The concurrency check. Named: src/events/queries.ts (STREAM_VERSION_CONSTRAINT) matches it.
  -- Its index is also the one that reads a stream in order (WHERE stream_id = $1 ORDER BY
  -- stream_version) and finds a stream's current version (max(stream_version)) without a sort.
  CONSTRAINT event_stream_version_key UNIQUE (stream_id, stream_version)
);

-- Reading all events by position (readAll, projections) uses the primary key's index.

CREATE FUNCTION event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event store is append-only: % on event is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Append new events instead of changing recorded ones (see migrations/0009_create_event_store.sql for retention).';
END
$$;

-- FOR EACH STATEMENT: one check per statement, whatever the number of rows; it also covers TRUNCATE,
-- which row triggers do not see.
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON event
  FOR EACH STATEMENT EXECUTE FUNCTION event_refuse_change();
