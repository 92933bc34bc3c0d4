import type { Role, Viewer } from '../../access/principal.ts'
import type { ApiTokenRow } from '../../access/sql/apiTokens.ts'
import type { CreatedToken } from '../../access/tokens.ts'
import type { BulkView, Page } from '../../operations/read.ts'
import type { BulkFilter, BulkKey, OperationFilter, OperationRow } from '../../operations/sql/bulks.ts'
import type { AcceptRequest, AsyncResponse, Candidate, RequestItem } from '../../operations/accept.ts'
import type { RequestItemsPage } from '../../operations/requestItems.ts'
import type { InventoryItemView } from '../../inventory/read.ts'
import type { NotificationView } from '../../operations/webhooks/read.ts'
import type { WebhookSecretRow } from '../../operations/sql/webhookSecrets.ts'
import type { OrderKey } from '../../orders/sql/list.ts'
import type { OrderEventRecord, OrderListItem } from '../../orders/read.ts'
import type { OrderView, OrderViewStatus } from '../../orders/orderView.ts'

/** What resolvers may ask of the application: commands on one side, queries on the other. No SQL here. */
export interface Services {
  /** `CUSTOMER_MAX_BULK_SIZE`: most orders in one bulk of a caller without the largeBulks capability. */
  readonly customerMaxBulkSize: number
  // commands
  placeOrders (request: AcceptRequest): Promise<AsyncResponse>
  /** The orders of a JSONL upload as it streams in, read under MAX_JSONL_LINE_BYTES and UPLOAD_TIMEOUT_SECONDS. */
  orderLines (file: AsyncIterable<Uint8Array>): AsyncIterable<Candidate>
  retryBulk (viewer: Viewer, uuid: string, errorCodes: readonly string[] | null, operationIds: readonly string[] | null): Promise<BulkView>
  cancelBulk (viewer: Viewer, uuid: string): Promise<BulkView>
  acknowledgeBulk (viewer: Viewer, uuid: string): Promise<BulkView>
  createApiToken (owner: string, role: Role): Promise<CreatedToken>
  revokeApiToken (id: string): Promise<ApiTokenRow | null>
  /** A new webhook signing secret for the owner (the only time it is returned). */
  rotateWebhookSecret (owner: string, previousValidHours: number): Promise<WebhookSecretRow>
  // queries (a bulk's nested reads take no viewer: the bulk was read through one)
  bulk (viewer: Viewer, uuid: string): Promise<BulkView | null>
  bulks (viewer: Viewer, filter: BulkFilter, page: Page<BulkKey>): Promise<BulkView[]>
  apiTokens (): Promise<ApiTokenRow[]>
  operations (bulkUuid: string, filter: OperationFilter, page: Page<number>): Promise<OperationRow[]>
  /** A range of an accepting request's answer: the items it holds, or its bulk's operations (a streamed upload's). */
  requestItems (response: AsyncResponse, page: RequestItemsPage): Promise<readonly RequestItem[]>
  operation (viewer: Viewer, id: string): Promise<OperationRow | null>
  /** When pg-boss will try the operation again, while it waits for a retry. */
  nextRetryAt (operation: OperationRow): Promise<Date | null>
  /** The bulk's state now, then each change, until it has finished. */
  watchBulk (uuid: string): AsyncIterable<BulkView>
  /** The absolute URL of a bulk's results file (`GET /bulks/:uuid/results.jsonl`). */
  resultsUrl (bulkUuid: string): string
  /** The absolute URL of an export bulk's file (`GET /bulks/:uuid/export.jsonl`). */
  exportUrl (bulkUuid: string): string
  /** An export bulk's progress, once its worker has begun it. */
  exportProgress (bulkUuid: string): Promise<{ rowsTotal: number, rowsWritten: number, bytes: number } | null>
  /** The webhook notifications of a bulk's finishes, each with its delivery attempts. */
  bulkNotifications (bulkUuid: string): Promise<readonly NotificationView[]>
  // orders and stock (issue 4: the read models)
  /** An order the viewer may see, by number; null for another owner's, as for a missing one. */
  order (viewer: Viewer, orderNumber: string): Promise<OrderView | null>
  /** A page of the viewer's orders (an admin's: everyone's), newest first, optionally of one status. */
  orders (viewer: Viewer, status: OrderViewStatus | null, page: Page<OrderKey>): Promise<OrderListItem[]>
  /** The events of an order's stream, oldest first (the order was read through a viewer). */
  orderEvents (orderId: string): Promise<readonly OrderEventRecord[]>
  /** The id of the order a number names, if the viewer may see it; also while it is accepted and not placed yet. */
  orderId (viewer: Viewer, orderNumber: string): Promise<string | null>
  /** The order's current view, then the view after each new event, until it is COMPLETED, CANCELED or FAILED. */
  watchOrder (orderId: string): AsyncIterable<OrderView>
  /** A SKU's stock; null for a SKU no adjustment created. */
  inventory (sku: string): Promise<InventoryItemView | null>
}
