-- Bulk exports (issue 15, part 2): exportOrders and exportInventory run as a bulk of kind `export`
-- with one operation, whose worker streams the matching rows to a JSONL file under EXPORT_DIR.
-- kind mirrors BULK_KIND in src/operations/domain/kind.ts.
ALTER TABLE bulk DROP CONSTRAINT bulk_kind_check;
ALTER TABLE bulk ADD CONSTRAINT bulk_kind_check CHECK (kind IN ('placement', 'cancellation', 'adjustment', 'retry', 'export'));

-- An export's progress, written by its worker outside the job's transaction after every chunk, so
-- that `bulk { export { rowsWritten rowsTotal } }` moves while the file is written. A retried
-- attempt starts it again from 0. It goes with its bulk.
CREATE TABLE bulk_export (
  bulk_uuid    uuid PRIMARY KEY REFERENCES bulk (uuid) ON DELETE CASCADE,
  rows_total   bigint NOT NULL CHECK (rows_total >= 0),
  rows_written bigint NOT NULL CHECK (rows_written >= 0),
  bytes        bigint NOT NULL CHECK (bytes >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
