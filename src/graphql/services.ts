import type { Role, Viewer } from '../auth/principal.ts'
import type { ApiTokenRow } from '../auth/queries.ts'
import type { CreatedToken } from '../auth/tokens.ts'
import type { BulkView, Page } from '../bulks/read.ts'
import type { BulkFilter, BulkKey, OperationFilter, OperationRow } from '../bulks/queries.ts'
import type { AcceptRequest, AsyncResponse } from '../commands/acceptOrders.ts'
import type { NotificationView } from '../notifications/read.ts'

/** What resolvers may ask of the application: commands on one side, queries on the other. No SQL here. */
export interface Services {
  // commands
  placeOrders (request: AcceptRequest): Promise<AsyncResponse>
  retryBulk (viewer: Viewer, uuid: string, errorCodes: readonly string[] | null, operationIds: readonly string[] | null): Promise<BulkView>
  cancelBulk (viewer: Viewer, uuid: string): Promise<BulkView>
  acknowledgeBulk (viewer: Viewer, uuid: string): Promise<BulkView>
  createApiToken (owner: string, role: Role): Promise<CreatedToken>
  revokeApiToken (id: string): Promise<ApiTokenRow | null>
  // queries (a bulk's nested reads take no viewer: the bulk was read through one)
  bulk (viewer: Viewer, uuid: string): Promise<BulkView | null>
  bulks (viewer: Viewer, filter: BulkFilter, page: Page<BulkKey>): Promise<BulkView[]>
  apiTokens (): Promise<ApiTokenRow[]>
  operations (bulkUuid: string, filter: OperationFilter, page: Page<number>): Promise<OperationRow[]>
  operation (viewer: Viewer, id: string): Promise<OperationRow | null>
  /** When pg-boss will try the operation again, while it waits for a retry. */
  nextRetryAt (operation: OperationRow): Promise<Date | null>
  /** The bulk's state now, then each change, until it has finished. */
  watchBulk (uuid: string): AsyncIterable<BulkView>
  /** The absolute URL of a bulk's results file (`GET /bulks/:uuid/results.jsonl`). */
  resultsUrl (bulkUuid: string): string
  /** The webhook notifications of a bulk's finishes, each with its delivery attempts. */
  bulkNotifications (bulkUuid: string): Promise<readonly NotificationView[]>
}
