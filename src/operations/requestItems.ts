import { run, type Db } from '../platform/db/pool.ts'
import { REQUEST_ITEM_STATUS, type AsyncResponse, type RequestItem } from './accept.ts'
import { OPERATION_STATUS } from './domain/status.ts'
import { selectRequestItems, type RequestItemRow } from './sql/requestItems.ts'

/** A range of an answer's items: from the item whose id is `offset`, at most `limit` (null: to the end). */
export interface RequestItemsPage {
  readonly offset: number
  readonly limit: number | null
}

/**
 * The items of an accepting request's answer, in request order: those it holds, or, for a streamed
 * upload (requestItems null), its bulk's operations, read a page at a time as a client asks (issue 17,
 * item 5): each was written with its item's index, hash, status, message and order number, so
 * holding them all until the answer is sent would make the gateway's memory grow with the upload.
 */
export async function listRequestItems (db: Db, response: AsyncResponse, page: RequestItemsPage): Promise<readonly RequestItem[]> {
  if (response.requestItems !== null) {
    return response.requestItems.slice(page.offset, page.limit === null ? undefined : page.offset + page.limit)
  }
  if (page.limit === 0) return []
  return (await run<RequestItemRow>(db, selectRequestItems(response.bulkUuid, page.offset, page.limit))).map(requestItemOf)
}

/** An operation as its item's line: a REJECTED one with its message; any other was ACCEPTED, whatever became of it since. */
function requestItemOf (row: RequestItemRow): RequestItem {
  const rejected = row.status === OPERATION_STATUS.REJECTED
  return {
    id: row.request_index,
    orderNumber: row.ordering_key,
    dataHash: row.data_hash,
    status: rejected ? REQUEST_ITEM_STATUS.REJECTED : REQUEST_ITEM_STATUS.ACCEPTED,
    errorMessage: rejected ? row.result_message : null
  }
}
