-- Counts per status for each bulk, kept by the database itself so that no code path can forget
-- them and `bulk { status counts }` costs the same for 10 operations or 100,000.
--
-- Counters are sharded: each transaction adds its deltas to the row of its own backend's shard
-- (pg_backend_pid() % 16), so concurrent workers finishing operations of one bulk do not queue on
-- one hot row. A bulk's counts are the sum of its (at most 16) rows.

CREATE TABLE bulk_progress (
  bulk_uuid            uuid NOT NULL REFERENCES bulk (uuid) ON DELETE CASCADE,
  shard                smallint NOT NULL,
  open                 integer NOT NULL DEFAULT 0,
  complete             integer NOT NULL DEFAULT 0,
  retriably_failed     integer NOT NULL DEFAULT 0,
  not_retriably_failed integer NOT NULL DEFAULT 0,
  rejected             integer NOT NULL DEFAULT 0,
  -- operations that have begun at least once (NOT_STARTED vs IN_PROGRESS)
  started              integer NOT NULL DEFAULT 0,
  first_started_at     timestamptz,
  last_finished_at     timestamptz,
  PRIMARY KEY (bulk_uuid, shard)
);

CREATE FUNCTION bulk_progress_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         count(*) FILTER (WHERE n.status = 'OPEN'),
         count(*) FILTER (WHERE n.status = 'COMPLETE'),
         count(*) FILTER (WHERE n.status = 'RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'NOT_RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'REJECTED'),
         count(*) FILTER (WHERE n.started_at IS NOT NULL),
         min(n.started_at),
         max(n.finished_at)
  FROM new_rows n
  GROUP BY n.bulk_uuid
  ORDER BY n.bulk_uuid
  ON CONFLICT (bulk_uuid, shard) DO UPDATE SET
    open                 = p.open + EXCLUDED.open,
    complete             = p.complete + EXCLUDED.complete,
    retriably_failed     = p.retriably_failed + EXCLUDED.retriably_failed,
    not_retriably_failed = p.not_retriably_failed + EXCLUDED.not_retriably_failed,
    rejected             = p.rejected + EXCLUDED.rejected,
    started              = p.started + EXCLUDED.started,
    first_started_at     = LEAST(p.first_started_at, EXCLUDED.first_started_at),
    last_finished_at     = GREATEST(p.last_finished_at, EXCLUDED.last_finished_at);
  PERFORM pg_notify('bulk_changed', b.bulk_uuid::text) FROM (SELECT DISTINCT bulk_uuid FROM new_rows) b;
  RETURN NULL;
END
$$;

CREATE FUNCTION bulk_progress_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- ORDER BY: rows are locked in one order by every transaction, so two cannot deadlock on them.
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         sum((n.status = 'OPEN')::int - (o.status = 'OPEN')::int),
         sum((n.status = 'COMPLETE')::int - (o.status = 'COMPLETE')::int),
         sum((n.status = 'RETRIABLY_FAILED')::int - (o.status = 'RETRIABLY_FAILED')::int),
         sum((n.status = 'NOT_RETRIABLY_FAILED')::int - (o.status = 'NOT_RETRIABLY_FAILED')::int),
         sum((n.status = 'REJECTED')::int - (o.status = 'REJECTED')::int),
         sum((n.started_at IS NOT NULL AND o.started_at IS NULL)::int),
         min(n.started_at) FILTER (WHERE o.started_at IS NULL),
         max(n.finished_at)
  FROM new_rows n
  JOIN old_rows o ON o.id = n.id
  WHERE n.status IS DISTINCT FROM o.status
     OR n.started_at IS DISTINCT FROM o.started_at
     OR n.finished_at IS DISTINCT FROM o.finished_at
  GROUP BY n.bulk_uuid
  ORDER BY n.bulk_uuid
  ON CONFLICT (bulk_uuid, shard) DO UPDATE SET
    open                 = p.open + EXCLUDED.open,
    complete             = p.complete + EXCLUDED.complete,
    retriably_failed     = p.retriably_failed + EXCLUDED.retriably_failed,
    not_retriably_failed = p.not_retriably_failed + EXCLUDED.not_retriably_failed,
    rejected             = p.rejected + EXCLUDED.rejected,
    started              = p.started + EXCLUDED.started,
    first_started_at     = LEAST(p.first_started_at, EXCLUDED.first_started_at),
    last_finished_at     = GREATEST(p.last_finished_at, EXCLUDED.last_finished_at);
  -- Status changes reach every gateway through LISTEN bulk_changed; the payload is the id only.
  -- NOTIFY is delivered at commit, and repeats within one transaction are sent once.
  PERFORM pg_notify('bulk_changed', b.bulk_uuid::text)
  FROM (SELECT DISTINCT n.bulk_uuid FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.status IS DISTINCT FROM o.status OR n.started_at IS DISTINCT FROM o.started_at) b;
  RETURN NULL;
END
$$;

CREATE TRIGGER operation_progress_insert AFTER INSERT ON operation
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bulk_progress_on_insert();

CREATE TRIGGER operation_progress_update AFTER UPDATE ON operation
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bulk_progress_on_update();
