-- A bulk with its counts and its started/finished times, summed over the progress shards.
-- The times are derived rather than stored on `bulk`: the transaction that finishes a bulk's last
-- operation cannot see the other shards' uncommitted work, so no single writer could know it is
-- the last one; the readers can. finished_at is set only once every operation is final.

CREATE VIEW bulk_summary AS
SELECT b.uuid, b.description, b.operation_count, b.created_at,
       coalesce(sum(p.open), 0)::int                 AS open,
       coalesce(sum(p.complete), 0)::int             AS complete,
       coalesce(sum(p.retriably_failed), 0)::int     AS retriably_failed,
       coalesce(sum(p.not_retriably_failed), 0)::int AS not_retriably_failed,
       coalesce(sum(p.rejected), 0)::int             AS rejected,
       coalesce(sum(p.started), 0)::int              AS started,
       min(p.first_started_at)                        AS started_at,
       CASE WHEN coalesce(sum(p.open + p.retriably_failed), 0) = 0
            THEN coalesce(max(p.last_finished_at), b.created_at) END AS finished_at
FROM bulk b
LEFT JOIN bulk_progress p ON p.bulk_uuid = b.uuid
GROUP BY b.uuid;
