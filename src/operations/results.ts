import { OPERATION_STATUS } from './domain/status.ts'
import type { ResultRow } from './sql/results.ts'

/**
 * A bulk's results file (Shopify's bulk operation result file): one JSON object per line, one line
 * per operation, in request order.
 *
 *   {"index":0,"id":"…","status":"COMPLETE","result":{"orderNumber":"ORD-00000042"}}
 *   {"index":1,"id":"…","status":"REJECTED","errorCode":"INVALID_INPUT","message":"currency must be …"}
 *
 * A COMPLETE operation carries its `result`; any other one carries `errorCode` and `message` when
 * it has an error (failed, rejected, canceled, or retrying after one). An operation still open
 * without an error carries only index, id and status.
 */
export const RESULTS_CONTENT_TYPE = 'application/jsonl; charset=utf-8'

/** The path of a bulk's results file, as routed by src/api/resultsRoute.ts. */
export function resultsPath (bulkUuid: string): string {
  return `/bulks/${bulkUuid}/results.jsonl`
}

/** The absolute URL of a bulk's results file under the gateway's public address. */
export function resultsUrl (publicUrl: string, bulkUuid: string): string {
  return publicUrl + resultsPath(bulkUuid)
}

export interface ResultLine {
  readonly index: number
  readonly id: string
  readonly status: string
  readonly result?: unknown
  readonly errorCode?: string
  readonly message?: string | null
}

export function toResultLine (row: ResultRow): ResultLine {
  const line = { index: row.request_index, id: row.id, status: row.status }
  if (row.status === OPERATION_STATUS.COMPLETE) return { ...line, result: row.result ?? null }
  if (row.error_code !== null) return { ...line, errorCode: row.error_code, message: row.result_message }
  return line
}
