import type { Query } from '../../platform/db/pool.ts'

/** An export's progress as its worker last wrote it. */
export interface ExportProgressRow {
  rows_total: string
  rows_written: string
  bytes: string
}

/**
 * Sets an export's progress (its first write, or a retried attempt's, starts it over), and tells
 * the gateways (bulk_changed, as operation changes do) so that bulkStatus subscribers see it move.
 */
export function upsertExportProgress (bulkUuid: string, rowsTotal: number, rowsWritten: number, bytes: number): Query {
  return {
    name: 'export-progress',
    text: `WITH progress AS (
        INSERT INTO bulk_export (bulk_uuid, rows_total, rows_written, bytes) VALUES ($1, $2, $3, $4)
        ON CONFLICT (bulk_uuid) DO UPDATE SET rows_total = EXCLUDED.rows_total, rows_written = EXCLUDED.rows_written,
          bytes = EXCLUDED.bytes, updated_at = now()
        RETURNING bulk_uuid
      )
      SELECT pg_notify('bulk_changed', bulk_uuid::text) FROM progress`,
    values: [bulkUuid, rowsTotal, rowsWritten, bytes]
  }
}

/** An export's progress, when its worker has begun it. */
export function selectExportProgress (bulkUuid: string): Query {
  return {
    name: 'export-progress-select',
    text: 'SELECT rows_total::text, rows_written::text, bytes::text FROM bulk_export WHERE bulk_uuid = $1',
    values: [bulkUuid]
  }
}

/** Of these bulk uuids, those no bulk has any more (retention deleted them): their files can go. */
export function selectMissingBulks (uuids: readonly string[]): Query {
  return {
    text: 'SELECT u::text AS uuid FROM unnest($1::uuid[]) u WHERE NOT EXISTS (SELECT 1 FROM bulk b WHERE b.uuid = u)',
    values: [uuids]
  }
}

/** Opens a cursor on `query` in the current transaction: its rows are read FETCH by FETCH, from one snapshot. */
export function declareExportCursor (query: Query): Query {
  return { text: `DECLARE export_rows NO SCROLL CURSOR FOR ${query.text}`, values: query.values }
}

export function fetchExportRows (count: number): Query {
  return { text: `FETCH ${Math.trunc(count)} FROM export_rows`, values: [] }
}

export function closeExportCursor (): Query {
  return { text: 'CLOSE export_rows', values: [] }
}
