-- Deadlines (issue 15, part 3): a bulk may carry not_after; its operations not begun by then end
-- EXPIRED instead of running late (claimed by a worker after the deadline: src/operations/runner.ts).
-- EXPIRED is a final operation status, counted in bulk_progress like the others; statuses mirror
-- OPERATION_STATUS in src/operations/domain/status.ts.

ALTER TABLE bulk ADD COLUMN not_after timestamptz;

ALTER TABLE operation DROP CONSTRAINT operation_status_check;
ALTER TABLE operation ADD CONSTRAINT operation_status_check
  CHECK (status IN ('OPEN', 'COMPLETE', 'RETRIABLY_FAILED', 'NOT_RETRIABLY_FAILED', 'REJECTED', 'CANCELED', 'EXPIRED'));

ALTER TABLE bulk_progress ADD COLUMN expired integer NOT NULL DEFAULT 0;

-- As in migrations/0005, with the expired counter.
CREATE OR REPLACE FUNCTION bulk_progress_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected, canceled, expired,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         count(*) FILTER (WHERE n.status = 'OPEN'),
         count(*) FILTER (WHERE n.status = 'COMPLETE'),
         count(*) FILTER (WHERE n.status = 'RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'NOT_RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'REJECTED'),
         count(*) FILTER (WHERE n.status = 'CANCELED'),
         count(*) FILTER (WHERE n.status = 'EXPIRED'),
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
    canceled             = p.canceled + EXCLUDED.canceled,
    expired              = p.expired + EXCLUDED.expired,
    started              = p.started + EXCLUDED.started,
    first_started_at     = LEAST(p.first_started_at, EXCLUDED.first_started_at),
    last_finished_at     = GREATEST(p.last_finished_at, EXCLUDED.last_finished_at);
  PERFORM pg_notify('bulk_changed', b.bulk_uuid::text) FROM (SELECT DISTINCT bulk_uuid FROM new_rows) b;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION bulk_progress_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- ORDER BY: rows are locked in one order by every transaction, so two cannot deadlock on them.
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected, canceled, expired,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         sum((n.status = 'OPEN')::int - (o.status = 'OPEN')::int),
         sum((n.status = 'COMPLETE')::int - (o.status = 'COMPLETE')::int),
         sum((n.status = 'RETRIABLY_FAILED')::int - (o.status = 'RETRIABLY_FAILED')::int),
         sum((n.status = 'NOT_RETRIABLY_FAILED')::int - (o.status = 'NOT_RETRIABLY_FAILED')::int),
         sum((n.status = 'REJECTED')::int - (o.status = 'REJECTED')::int),
         sum((n.status = 'CANCELED')::int - (o.status = 'CANCELED')::int),
         sum((n.status = 'EXPIRED')::int - (o.status = 'EXPIRED')::int),
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
    canceled             = p.canceled + EXCLUDED.canceled,
    expired              = p.expired + EXCLUDED.expired,
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

-- As in migrations/0044, with the expired count and not_after. An expired operation is final and not
-- a success: a bulk with one ends FINISHED_WITH_FAILURE (or CANCELED, when it was canceled too).
DROP VIEW bulk_summary;
CREATE VIEW bulk_summary AS
SELECT b.uuid, b.description, b.operation_count, b.created_at, b.acknowledged_at, b.notify_url, c.*,
       CASE
         WHEN c.open + c.retriably_failed > 0 THEN CASE WHEN c.started = 0 THEN 'NOT_STARTED' ELSE 'IN_PROGRESS' END
         WHEN c.canceled > 0 THEN 'CANCELED'
         WHEN c.complete = b.operation_count THEN 'FINISHED_SUCCESSFULLY'
         ELSE 'FINISHED_WITH_FAILURE'
       END AS status,
       CASE WHEN c.open + c.retriably_failed = 0 THEN coalesce(c.last_finished_at, b.created_at) END AS finished_at,
       b.owner,
       b.kind,
       b.created_by,
       b.not_after
FROM bulk b
CROSS JOIN LATERAL (
  SELECT coalesce(sum(p.open), 0)::int                 AS open,
         coalesce(sum(p.complete), 0)::int             AS complete,
         coalesce(sum(p.retriably_failed), 0)::int     AS retriably_failed,
         coalesce(sum(p.not_retriably_failed), 0)::int AS not_retriably_failed,
         coalesce(sum(p.rejected), 0)::int             AS rejected,
         coalesce(sum(p.canceled), 0)::int             AS canceled,
         coalesce(sum(p.expired), 0)::int              AS expired,
         coalesce(sum(p.started), 0)::int              AS started,
         min(p.first_started_at)                        AS started_at,
         max(p.last_finished_at)                        AS last_finished_at
  FROM bulk_progress p
  WHERE p.bulk_uuid = b.uuid
) c;
