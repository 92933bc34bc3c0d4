-- Webhooks on finish (issue 3, "Results and notification"): one notification per finish of a bulk
-- that asked for one (bulk.notify_url), and every attempt to deliver it.

-- Added by 0005 with the notifyUrl argument; repeated here so this migration stands on its own.
ALTER TABLE bulk ADD COLUMN IF NOT EXISTS notify_url text;

-- The sweep after a (re)connect looks only at bulks that asked to be notified.
CREATE INDEX bulk_notify_url_idx ON bulk (uuid) WHERE notify_url IS NOT NULL;

-- States mirror NOTIFICATION_STATE in src/notifications/queries.ts.
CREATE TABLE bulk_notification (
  id          uuid PRIMARY KEY,
  bulk_uuid   uuid NOT NULL REFERENCES bulk (uuid) ON DELETE CASCADE,
  -- The finish it announces (bulk_summary.finished_at). The unique key makes the notification of a
  -- finish exactly-once however many workers see it: the first insert wins, the others do nothing.
  -- A bulk retried and finished again has a later finished_at, so it is notified again.
  finished_at timestamptz NOT NULL,
  url         text NOT NULL,
  -- The body sent, fixed when the finish was seen: every attempt sends the same summary. json, not
  -- jsonb, so that it keeps its keys in the order written.
  payload     json NOT NULL,
  state       text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DELIVERED', 'FAILED')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- When it was delivered, or given up on.
  settled_at  timestamptz,
  UNIQUE (bulk_uuid, finished_at)
);

CREATE TABLE bulk_notification_attempt (
  notification_id uuid NOT NULL REFERENCES bulk_notification (id) ON DELETE CASCADE,
  -- 1 for the first attempt (pg-boss retryCount + 1).
  attempt         integer NOT NULL CHECK (attempt >= 1),
  attempted_at    timestamptz NOT NULL,
  duration_ms     integer NOT NULL,
  -- The receiver's answer, or null when there was none (error says why).
  http_status     integer,
  error           text,
  delivered       boolean NOT NULL,
  PRIMARY KEY (notification_id, attempt)
);
