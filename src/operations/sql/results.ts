import type { Query } from '../../platform/db/pool.ts'

/** What one line of a results file is made of. */
export interface ResultRow {
  request_index: number
  id: string
  status: string
  result: unknown
  error_code: string | null
  result_message: string | null
}

/** The bulk's kind, when `owner` may read it (null: any owner's, for admins). */
export function selectBulkExists (uuid: string, owner: string | null): Query {
  return {
    name: 'results-bulk-exists',
    text: 'SELECT kind FROM bulk WHERE uuid = $1 AND ($2::text IS NULL OR owner = $2)',
    values: [uuid, owner]
  }
}

/**
 * One page of a bulk's results in request order, after `afterIndex` (keyset on the unique
 * (bulk_uuid, request_index) index): every page costs the same however far into the bulk it is.
 */
export function selectResultsPage (bulkUuid: string, afterIndex: number, limit: number): Query {
  return {
    name: 'results-page',
    text: `SELECT request_index, id, status, result, error_code, result_message
      FROM operation
      WHERE bulk_uuid = $1 AND request_index > $2
      ORDER BY request_index
      LIMIT $3`,
    values: [bulkUuid, afterIndex, limit]
  }
}

/** Whether an export bulk's operation has completed (its file is whole and in place). */
export function selectExportComplete (bulkUuid: string): Query {
  return {
    text: 'SELECT bool_and(status = \'COMPLETE\') AS complete FROM operation WHERE bulk_uuid = $1',
    values: [bulkUuid]
  }
}
