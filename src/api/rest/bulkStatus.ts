import type { ServerResponse } from 'node:http'
import { viewerOf } from '../../access/principal.ts'
import type { OperationStatus } from '../../operations/domain/status.ts'
import type { BulkWithOwnerRole } from '../../operations/read.ts'
import type { OperationRow } from '../../operations/sql/bulks.ts'
import { noSuchBulk, REST_STATUS, RestError, sendJson } from './errors.ts'
import { MAGENTO_OPERATION_STATUS, MAGENTO_USER_TYPE, magentoErrorCode, magentoTime, operationStatusOf } from './magento.ts'
import type { RestCall } from './route.ts'
import type { BulkSummaryBody, OperationDetailed, OperationShort } from './schemas.ts'

/** A bulk uuid as the path and searchCriteria take it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Operations read per query while a status is written: memory stays bounded by one page whatever the bulk's size. */
const PAGE_SIZE = 1000

/** The bulk the path names, if the caller may see it; Magento's 404 otherwise (another owner's too). */
async function bulkOf (call: RestCall): Promise<BulkWithOwnerRole> {
  const uuid = call.params.bulkUuid ?? ''
  const bulk = UUID.test(uuid) ? await call.services.bulk(viewerOf(call.principal), uuid) : null
  if (bulk === null) throw noSuchBulk(uuid)
  return bulk
}

function summaryOf (bulk: BulkWithOwnerRole): BulkSummaryBody {
  return {
    user_type: bulk.ownerRole === null ? null : MAGENTO_USER_TYPE[bulk.ownerRole],
    bulk_id: bulk.uuid,
    description: bulk.description,
    start_time: magentoTime(bulk.createdAt),
    user_id: null,
    operation_count: bulk.operationCount,
    extension_attributes: {
      bulk_status: bulk.status,
      finished_at: bulk.finishedAt === null ? null : magentoTime(bulk.finishedAt),
      owner: bulk.owner
    }
  }
}

function shortOperation (row: OperationRow): OperationShort {
  return {
    id: row.seq,
    status: MAGENTO_OPERATION_STATUS[row.status as OperationStatus],
    result_message: row.result_message,
    error_code: magentoErrorCode(row.error_code)
  }
}

/** An operation in Magento's detailed form (detailed status and search), `bulkStart` being its bulk's start time. */
export function detailedOperation (row: Omit<OperationRow, 'job_id' | 'data_hash' | 'attempts' | 'created_at' | 'started_at' | 'finished_at'>,
  bulkStart: Date): OperationDetailed {
  return {
    id: row.seq,
    bulk_uuid: row.bulk_uuid,
    topic_name: row.topic,
    // Magento's form: the request body executed, as JSON inside JSON.
    serialized_data: JSON.stringify({ entity_id: null, entity_link: '', meta_information: JSON.stringify(row.data) }),
    result_serialized_data: row.result === null || row.result === undefined ? null : JSON.stringify(row.result),
    status: MAGENTO_OPERATION_STATUS[row.status as OperationStatus],
    result_message: row.result_message,
    error_code: magentoErrorCode(row.error_code),
    extension_attributes: {
      start_time: magentoTime(bulkStart),
      operation_key: row.request_index,
      operation_id: row.id,
      error: row.error_code
    }
  }
}

/**
 * Writes `{ "operations_list": [ … ], <summary> }`. The summary and the first page of operations are
 * read from one snapshot, so they agree; a bulk of more than one page is written a page at a time
 * (keyset on request_index) as the client takes it, so 100,000 operations cost one page of memory.
 * Later pages are read as they are written: newer than the summary, never older.
 */
async function writeStatus (call: RestCall, render: (row: OperationRow, bulk: BulkWithOwnerRole) => unknown): Promise<void> {
  const uuid = call.params.bulkUuid ?? ''
  const first = UUID.test(uuid) ? await call.services.bulkWithOperations(viewerOf(call.principal), uuid, PAGE_SIZE) : null
  if (first === null) throw noSuchBulk(uuid)
  const bulk = first.bulk
  const res = call.res
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.write('{"operations_list":[')
  let rows = first.operations
  let separator = ''
  while (rows.length > 0 && !res.destroyed) {
    if (!res.write(separator + rows.map(row => JSON.stringify(render(row, bulk))).join(','))) await drained(res)
    separator = ','
    if (rows.length < PAGE_SIZE) break
    rows = await call.services.operations(bulk.uuid, { status: null, errorCode: null }, { after: rows.at(-1)!.request_index, before: null, limit: PAGE_SIZE, inverted: false })
  }
  res.end('],' + JSON.stringify(summaryOf(bulk)).slice(1))
}

/** Resolves when the socket has taken what was written, or the client has gone. */
async function drained (res: ServerResponse): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/** The count of operations in each of Magento's statuses, from the bulk's counters. */
function countOf (bulk: BulkWithOwnerRole, status: OperationStatus): number {
  const counts = bulk.counts
  const byStatus: Record<OperationStatus, number> = {
    COMPLETE: counts.complete,
    RETRIABLY_FAILED: counts.retriablyFailed,
    NOT_RETRIABLY_FAILED: counts.notRetriablyFailed,
    OPEN: counts.open,
    REJECTED: counts.rejected,
    CANCELED: counts.canceled,
    EXPIRED: counts.expired
  }
  return byStatus[status]
}

/** The handlers of the bulk status routes. */
export const statusHandlers = {
  status: async (call: RestCall) => { await writeStatus(call, shortOperation) },
  detailedStatus: async (call: RestCall) => { await writeStatus(call, (row, bulk) => detailedOperation(row, bulk.createdAt)) },
  operationCount: async (call: RestCall) => {
    const given = call.params.status ?? ''
    const status = /^\d$/.test(given) ? operationStatusOf(Number(given)) : undefined
    if (status === undefined) {
      throw new RestError(REST_STATUS.BAD_REQUEST, 'status must be an operation status from 1 to 7, got "%status"', { status: given.slice(0, 20) })
    }
    const bulk = await bulkOf(call)
    sendJson(call.res, 200, countOf(bulk, status))
  }
}
