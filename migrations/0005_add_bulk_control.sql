-- Control over bulks: cancellation (CANCELED operations and bulks), acknowledgement, retries with
-- fresh jobs (operation.job_id), notification URL, idempotency keys; the bulk status moves into
-- the summary view so that lists can filter on it.

ALTER TABLE operation DROP CONSTRAINT operation_status_check;
ALTER TABLE operation ADD CONSTRAINT operation_status_check
  CHECK (status IN ('OPEN', 'COMPLETE', 'RETRIABLY_FAILED', 'NOT_RETRIABLY_FAILED', 'REJECTED', 'CANCELED'));

-- The pg-boss job that currently carries the operation (the first one has the operation's id).
ALTER TABLE operation ADD COLUMN job_id uuid;
UPDATE operation SET job_id = id WHERE status <> 'REJECTED';

-- Bulk.operations(errorCode: …)
CREATE INDEX operation_bulk_error_code_idx ON operation (bulk_uuid, error_code, request_index) WHERE error_code IS NOT NULL;

ALTER TABLE bulk ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE bulk ADD COLUMN IF NOT EXISTS notify_url text;

ALTER TABLE bulk_progress ADD COLUMN canceled integer NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION bulk_progress_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected, canceled,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         count(*) FILTER (WHERE n.status = 'OPEN'),
         count(*) FILTER (WHERE n.status = 'COMPLETE'),
         count(*) FILTER (WHERE n.status = 'RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'NOT_RETRIABLY_FAILED'),
         count(*) FILTER (WHERE n.status = 'REJECTED'),
         count(*) FILTER (WHERE n.status = 'CANCELED'),
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
  INSERT INTO bulk_progress AS p (bulk_uuid, shard, open, complete, retriably_failed, not_retriably_failed, rejected, canceled,
                                  started, first_started_at, last_finished_at)
  SELECT n.bulk_uuid, (pg_backend_pid() % 16)::smallint,
         sum((n.status = 'OPEN')::int - (o.status = 'OPEN')::int),
         sum((n.status = 'COMPLETE')::int - (o.status = 'COMPLETE')::int),
         sum((n.status = 'RETRIABLY_FAILED')::int - (o.status = 'RETRIABLY_FAILED')::int),
         sum((n.status = 'NOT_RETRIABLY_FAILED')::int - (o.status = 'NOT_RETRIABLY_FAILED')::int),
         sum((n.status = 'REJECTED')::int - (o.status = 'REJECTED')::int),
         sum((n.status = 'CANCELED')::int - (o.status = 'CANCELED')::int),
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

-- The bulk status is derived here, exactly (not Magento's #36911), and mirrors BULK_STATUS in
-- src/domain/bulk/status.ts. The order of the CASE matters: a bulk is final only when no
-- operation is OPEN or RETRIABLY_FAILED; among final ones, cancellation names the outcome first.
-- The counts are a LATERAL sum per bulk, so a list read newest-first by the created_at index sums
-- only the bulks of its page.
DROP VIEW bulk_summary;
CREATE VIEW bulk_summary AS
SELECT b.uuid, b.description, b.operation_count, b.created_at, b.acknowledged_at, b.notify_url, c.*,
       CASE
         WHEN c.open + c.retriably_failed > 0 THEN CASE WHEN c.started = 0 THEN 'NOT_STARTED' ELSE 'IN_PROGRESS' END
         WHEN c.canceled > 0 THEN 'CANCELED'
         WHEN c.complete = b.operation_count THEN 'FINISHED_SUCCESSFULLY'
         ELSE 'FINISHED_WITH_FAILURE'
       END AS status,
       CASE WHEN c.open + c.retriably_failed = 0 THEN coalesce(c.last_finished_at, b.created_at) END AS finished_at
FROM bulk b
CROSS JOIN LATERAL (
  SELECT coalesce(sum(p.open), 0)::int                 AS open,
         coalesce(sum(p.complete), 0)::int             AS complete,
         coalesce(sum(p.retriably_failed), 0)::int     AS retriably_failed,
         coalesce(sum(p.not_retriably_failed), 0)::int AS not_retriably_failed,
         coalesce(sum(p.rejected), 0)::int             AS rejected,
         coalesce(sum(p.canceled), 0)::int             AS canceled,
         coalesce(sum(p.started), 0)::int              AS started,
         min(p.first_started_at)                        AS started_at,
         max(p.last_finished_at)                        AS last_finished_at
  FROM bulk_progress p
  WHERE p.bulk_uuid = b.uuid
) c;

-- Accepting mutations with the same idempotency key answer with the first response.
CREATE TABLE idempotency_key (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  bulk_uuid    uuid,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_key_created_at_idx ON idempotency_key (created_at);
