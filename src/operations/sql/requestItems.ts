import type { Query } from '../../platform/db/pool.ts'

/** An operation as a line of its request's answer (src/operations/requestItems.ts). */
export interface RequestItemRow {
  request_index: number
  ordering_key: string | null
  data_hash: string
  status: string
  result_message: string | null
}

/**
 * A bulk's operations from request index `offset` on, in request order, at most `limit` (null: all):
 * a range of the (bulk_uuid, request_index) unique index.
 */
export function selectRequestItems (bulkUuid: string, offset: number, limit: number | null): Query {
  return {
    name: 'select-request-items',
    text: `SELECT request_index, ordering_key, data_hash, status, result_message
           FROM operation WHERE bulk_uuid = $1 AND request_index >= $2 ORDER BY request_index LIMIT $3`,
    values: [bulkUuid, offset, limit]
  }
}
