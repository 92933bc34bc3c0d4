import { z } from 'zod'
import { acceptHandlers } from './accept.ts'
import { statusHandlers } from './bulkStatus.ts'
import { OrderBodySchema } from './orderEntity.ts'
import type { RestParameter, RestRoute } from './route.ts'
import { searchHandler } from './search.ts'
import {
  AsyncResponseSchema, BulkStatusSchema, DetailedBulkStatusSchema, OperationCountSchema, OperationSearchResultsSchema,
  OrderIdSchema, SearchCriteriaSchema, StockAdjustmentBodySchema
} from './schemas.ts'

const accepted = { status: 202, description: 'Accepted at once: the bulk uuid and what became of each item.', schema: AsyncResponseSchema } as const

const orderId: RestParameter = { name: 'id', in: 'path', description: 'The order number, such as ORD-00000042.', schema: z.string() }
const bulkUuid: RestParameter = { name: 'bulkUuid', in: 'path', description: 'The bulk_uuid an asynchronous request answered with.', schema: z.uuid() }

/** The asynchronous routes of one write: one item at `single`, an array of them at `bulk` (Magento's `/async/bulk`). */
function asyncPair (write: {
  readonly single: string
  readonly bulk: string
  readonly name: string
  readonly what: string
  readonly body?: z.ZodType
  readonly parameters?: readonly RestParameter[]
  readonly bulkBody: z.ZodType
  readonly adminOnly?: boolean
  readonly handle: RestRoute['handle']
  readonly handleBulk: RestRoute['handle']
}): RestRoute[] {
  const common = { method: 'POST', tag: 'async', answer: accepted, adminOnly: write.adminOnly ?? false } as const
  return [
    {
      ...common,
      path: write.single,
      operationId: write.name,
      summary: `${write.what}, asynchronously`,
      description: `${write.what} as a bulk of one operation. An invalid item is answered as \`rejected\` (errors: true), naming the field as sent.`,
      parameters: write.parameters ?? [],
      ...(write.body !== undefined ? { body: write.body } : {}),
      handle: write.handle
    },
    {
      ...common,
      path: write.bulk,
      operationId: `${write.name}Bulk`,
      summary: `${write.what}, many as one bulk`,
      description: 'An array of single bodies, one operation each. Invalid elements are `rejected`; the valid ones are enqueued all the same.',
      parameters: [],
      body: write.bulkBody,
      handle: write.handleBulk
    }
  ]
}

/** Every REST route (docs/magento-rest.md): what is matched, documented in /rest/openapi.json, and served. */
export const REST_ROUTES: readonly RestRoute[] = Object.freeze([
  ...asyncPair({
    single: '/async/V1/orders',
    bulk: '/async/bulk/V1/orders',
    name: 'placeOrder',
    what: 'Places an order',
    body: OrderBodySchema,
    bulkBody: z.array(OrderBodySchema),
    handle: acceptHandlers.placeOrder,
    handleBulk: acceptHandlers.placeOrders
  }),
  ...asyncPair({
    single: '/async/V1/orders/{id}/cancel',
    bulk: '/async/bulk/V1/orders/byId/cancel',
    name: 'cancelOrder',
    what: 'Cancels an order (after anything accepted before it on that order)',
    parameters: [orderId],
    bulkBody: z.array(OrderIdSchema),
    handle: acceptHandlers.cancelOrder,
    handleBulk: acceptHandlers.cancelOrders
  }),
  ...asyncPair({
    single: '/async/V1/orders/{id}/retry',
    bulk: '/async/bulk/V1/orders/byId/retry',
    name: 'retryOrder',
    what: 'Gives the chain steps of an order that gave up a new job',
    parameters: [orderId],
    bulkBody: z.array(OrderIdSchema),
    handle: acceptHandlers.retryOrder,
    handleBulk: acceptHandlers.retryOrders
  }),
  ...asyncPair({
    single: '/async/V1/inventory/stock-adjustments',
    bulk: '/async/bulk/V1/inventory/stock-adjustments',
    name: 'adjustStock',
    what: "Changes a SKU's available units by a signed quantity (admins only)",
    body: StockAdjustmentBodySchema,
    bulkBody: z.array(StockAdjustmentBodySchema),
    adminOnly: true,
    handle: acceptHandlers.adjustStock,
    handleBulk: acceptHandlers.adjustStocks
  }),
  {
    method: 'GET',
    path: '/V1/bulk/{bulkUuid}/status',
    operationId: 'getBulkShortStatus',
    summary: "A bulk's status with each operation's",
    description: 'Operations in request order, with numeric statuses. Another owner\'s bulk is a 404, as a missing one.',
    tag: 'bulk status',
    parameters: [bulkUuid],
    answer: { status: 200, description: 'The bulk and its operations.', schema: BulkStatusSchema },
    handle: statusHandlers.status
  },
  {
    method: 'GET',
    path: '/V1/bulk/{bulkUuid}/detailed-status',
    operationId: 'getBulkDetailedStatus',
    summary: 'As the status, with each operation\'s topic, data and result',
    description: 'Operations in request order. Another owner\'s bulk is a 404, as a missing one.',
    tag: 'bulk status',
    parameters: [bulkUuid],
    answer: { status: 200, description: 'The bulk and its operations in detail.', schema: DetailedBulkStatusSchema },
    handle: statusHandlers.detailedStatus
  },
  {
    method: 'GET',
    path: '/V1/bulk/{bulkUuid}/operation-status/{status}',
    operationId: 'getOperationsCountByBulkIdAndStatus',
    summary: 'How many operations of a bulk have a status',
    description: 'A bare number.',
    tag: 'bulk status',
    parameters: [bulkUuid, { name: 'status', in: 'path', description: '1 COMPLETE, 2 RETRIABLY_FAILED, 3 NOT_RETRIABLY_FAILED, 4 OPEN, 5 REJECTED, 6 CANCELED', schema: z.number().int().min(1).max(6) }],
    answer: { status: 200, description: 'The count.', schema: OperationCountSchema },
    handle: statusHandlers.operationCount
  },
  {
    method: 'GET',
    path: '/V1/bulk',
    operationId: 'searchOperations',
    summary: "The operations of the caller's bulks that match searchCriteria",
    description: "Magento's operation search (OperationRepositoryInterface::getList), over the caller's own bulks (an admin's: every bulk), in acceptance order.",
    tag: 'bulk status',
    parameters: [{ name: 'searchCriteria', in: 'query', description: 'Filters, sort order and page, as bracketed query parameters.', schema: SearchCriteriaSchema }],
    answer: { status: 200, description: 'A page of matching operations and their total.', schema: OperationSearchResultsSchema },
    handle: searchHandler
  }
])
