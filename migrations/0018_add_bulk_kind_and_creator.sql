-- Who did what (issue 15, part 5): what each bulk does, and the credential that sent it.
-- kind mirrors BULK_KIND in src/operations/domain/kind.ts; every operation of a bulk has the topic
-- of its kind, so bulks made before this migration take the kind of their first operation.
-- created_by is `token:<api token id>` or `jwt:<subject>` (credentialOf in src/access/principal.ts);
-- it stays null for bulks made before it was recorded.

ALTER TABLE bulk ADD COLUMN kind text;
ALTER TABLE bulk ADD COLUMN created_by text;

UPDATE bulk b SET kind = CASE o.topic
    WHEN 'order.cancel' THEN 'cancellation'
    WHEN 'order.retry' THEN 'retry'
    WHEN 'inventory.adjust' THEN 'adjustment'
    ELSE 'placement'
  END
FROM (SELECT DISTINCT ON (bulk_uuid) bulk_uuid, topic FROM operation ORDER BY bulk_uuid, request_index) o
WHERE o.bulk_uuid = b.uuid;
UPDATE bulk SET kind = 'placement' WHERE kind IS NULL;

ALTER TABLE bulk ALTER COLUMN kind SET NOT NULL;
ALTER TABLE bulk ADD CONSTRAINT bulk_kind_check CHECK (kind IN ('placement', 'cancellation', 'adjustment', 'retry'));

-- bulks(owner:, kind:) for admins: the owner's index (migrations/0007) serves the first.
CREATE INDEX bulk_kind_created_at_idx ON bulk (kind, created_at DESC, uuid);

CREATE OR REPLACE VIEW bulk_summary AS
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
       b.created_by
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
