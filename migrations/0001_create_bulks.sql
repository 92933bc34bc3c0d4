-- A bulk is one accepted request; each item of it is one operation (Magento's magento_bulk and
-- magento_operation). Rejected items are kept as REJECTED operations so status queries show them.

CREATE TABLE bulk (
  uuid            uuid PRIMARY KEY,
  description     text,
  operation_count integer NOT NULL CHECK (operation_count >= 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX bulk_created_at_idx ON bulk (created_at DESC, uuid);

-- Statuses mirror OPERATION_STATUS in src/domain/bulk/status.ts.
CREATE TABLE operation (
  id             uuid PRIMARY KEY,
  bulk_uuid      uuid NOT NULL REFERENCES bulk (uuid) ON DELETE CASCADE,
  request_index  integer NOT NULL CHECK (request_index >= 0),
  topic          text NOT NULL,
  status         text NOT NULL CHECK (status IN ('OPEN', 'COMPLETE', 'RETRIABLY_FAILED', 'NOT_RETRIABLY_FAILED', 'REJECTED')),
  data           jsonb NOT NULL,
  data_hash      text NOT NULL,
  result         jsonb,
  error_code     text,
  result_message text,
  attempts       integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  finished_at    timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bulk_uuid, request_index)
);

-- Operations of a bulk in one status, in request order (Bulk.operations(status: …)).
CREATE INDEX operation_bulk_status_idx ON operation (bulk_uuid, status, request_index);
