import type { Viewer } from '../../access/principal.ts'
import type { AcceptRequest, AsyncResponse, RequestItem } from '../../operations/accept.ts'
import type { BulkWithOwnerRole, Page } from '../../operations/read.ts'
import type { OperationFilter, OperationRow } from '../../operations/sql/bulks.ts'
import type { OperationSearch, SearchedOperationRow } from '../../operations/sql/operationSearch.ts'

/** What the REST routes may ask of the features: each a call into the feature that owns it. No SQL here. */
export interface RestServices {
  /** Accepts items as one bulk (acceptOperations). */
  accept (request: AcceptRequest): Promise<AsyncResponse>
  /** Every item of an accepting request's answer (read from its bulk when the answer holds none: a replay of an upload's key). */
  requestItems (response: AsyncResponse): Promise<readonly RequestItem[]>
  /** A bulk the viewer may see, with its starter's role; null for another owner's, as for a missing one. */
  bulk (viewer: Viewer, uuid: string): Promise<BulkWithOwnerRole | null>
  /** A bulk as `bulk`, and its first `limit` operations in request order, read from one snapshot. */
  bulkWithOperations (viewer: Viewer, uuid: string, limit: number): Promise<{ bulk: BulkWithOwnerRole, operations: OperationRow[] } | null>
  /** A page of a bulk's operations in request order (the bulk was read through a viewer). */
  operations (bulkUuid: string, filter: OperationFilter, page: Page<number>): Promise<OperationRow[]>
  /** The operations of the viewer's bulks that match: a page, and how many match in all. */
  searchOperations (viewer: Viewer, search: Omit<OperationSearch, 'owner'>): Promise<{ total: number, operations: SearchedOperationRow[] }>
}
