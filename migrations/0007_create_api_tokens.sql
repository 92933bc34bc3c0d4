-- Who is calling, and what belongs to whom (issue 5). API tokens are stored only as SHA-256
-- hashes of high-entropy random values; every bulk has the owner that created it, and every read
-- and command filters on it in SQL (admins see everything).

-- Roles mirror ROLE in src/auth/principal.ts.
CREATE TABLE api_token (
  id           uuid PRIMARY KEY,
  owner        text NOT NULL CHECK (owner <> '' AND length(owner) <= 200),
  role         text NOT NULL CHECK (role IN ('customer', 'integration', 'admin')),
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

-- Bulks created before ownership existed belong to the admin owner.
ALTER TABLE bulk ADD COLUMN owner text NOT NULL DEFAULT 'admin';
ALTER TABLE bulk ALTER COLUMN owner DROP DEFAULT;
CREATE INDEX bulk_owner_created_at_idx ON bulk (owner, created_at DESC, uuid);

-- An idempotency key is the caller's: two owners may use the same key for different work.
ALTER TABLE idempotency_key ADD COLUMN owner text NOT NULL DEFAULT 'admin';
ALTER TABLE idempotency_key ALTER COLUMN owner DROP DEFAULT;
ALTER TABLE idempotency_key DROP CONSTRAINT idempotency_key_pkey;
ALTER TABLE idempotency_key ADD PRIMARY KEY (owner, key);

CREATE OR REPLACE VIEW bulk_summary AS
SELECT b.uuid, b.description, b.operation_count, b.created_at, b.acknowledged_at, b.notify_url, c.*,
       CASE
         WHEN c.open + c.retriably_failed > 0 THEN CASE WHEN c.started = 0 THEN 'NOT_STARTED' ELSE 'IN_PROGRESS' END
         WHEN c.canceled > 0 THEN 'CANCELED'
         WHEN c.complete = b.operation_count THEN 'FINISHED_SUCCESSFULLY'
         ELSE 'FINISHED_WITH_FAILURE'
       END AS status,
       CASE WHEN c.open + c.retriably_failed = 0 THEN coalesce(c.last_finished_at, b.created_at) END AS finished_at,
       b.owner
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
