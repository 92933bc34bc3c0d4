import { ADJUST_STOCK } from '../../inventory/requests/adjustStock.ts'
import { viewerOf } from '../../access/principal.ts'
import { BULK_ERROR_POLICY, REQUEST_ITEM_STATUS, type AsyncResponse, type Candidate, type OperationKind, type RequestItem } from '../../operations/accept.ts'
import { OPERATION_ERROR_CODE } from '../../operations/domain/status.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from '../../operations/errors.ts'
import { CANCEL_ORDER } from '../../orders/requests/cancelOrder.ts'
import { orderNumberProblem } from '../../orders/requests/orderOperation.ts'
import { PLACE_ORDER } from '../../orders/requests/placeOrder.ts'
import { RETRY_ORDER } from '../../orders/requests/retryOrder.ts'
import { REST_STATUS, RestError, sendJson } from './errors.ts'
import { MAGENTO_ITEM_STATUS, magentoErrorCode } from './magento.ts'
import { describeIssues, issueMessage, orderCandidate } from './orderEntity.ts'
import type { RestCall } from './route.ts'
import { OrderIdSchema, StockAdjustmentBodySchema, type AsyncResponseBody } from './schemas.ts'

/** What the gateway's refusals of a whole request become. */
const REFUSAL_STATUS: Readonly<Partial<Record<string, 400 | 409>>> = Object.freeze({
  [REQUEST_ERROR_CODE.IDEMPOTENCY_KEY_REUSED]: REST_STATUS.CONFLICT
})

/** The request items as Magento answers them; `orders` adds each item's order number. */
function toMagento (response: AsyncResponse, items: readonly RequestItem[], orders: boolean): AsyncResponseBody {
  return {
    bulk_uuid: response.bulkUuid,
    request_items: items.map(item => ({
      id: item.id,
      data_hash: item.dataHash,
      status: item.status === REQUEST_ITEM_STATUS.ACCEPTED ? MAGENTO_ITEM_STATUS.ACCEPTED : MAGENTO_ITEM_STATUS.REJECTED,
      error_message: item.errorMessage,
      error_code: item.status === REQUEST_ITEM_STATUS.ACCEPTED ? null : magentoErrorCode(OPERATION_ERROR_CODE.INVALID_INPUT),
      ...(orders ? { extension_attributes: { order_number: item.orderNumber } } : {})
    })),
    errors: response.errors
  }
}

/**
 * Accepts the items as one bulk, through the same acceptOperations as GraphQL (invalid items are
 * REJECTED operations, the others enqueued in the same transaction), and answers 202.
 */
async function accept (call: RestCall, kind: OperationKind, items: readonly Candidate[], orders: boolean): Promise<void> {
  let response: AsyncResponse
  try {
    response = await call.services.accept({
      kind,
      owner: call.principal.owner,
      ownerRole: call.principal.role,
      viewerOwner: viewerOf(call.principal).owner,
      items,
      // As Magento describes the bulks of its asynchronous routes.
      description: `Topic ${kind.topic}`,
      errorPolicy: BULK_ERROR_POLICY.REJECT_FAILED_ROWS,
      idempotencyKey: call.idempotencyKey,
      notifyUrl: null
    })
  } catch (error) {
    if (error instanceof RequestRejectedError) throw new RestError(REFUSAL_STATUS[error.code] ?? REST_STATUS.BAD_REQUEST, error.message)
    throw error
  }
  // A body's items are in memory; an answer without them is a replay of a key a JSONL upload used, whose items are its bulk's (as many as this body sent).
  const answered = response.requestItems ?? await call.services.requestItems(response)
  sendJson(call.res, REST_STATUS.ACCEPTED, toMagento(response, answered, orders))
}

/** The body of a single asynchronous request: an object (as Magento, 400 without one). */
function single (body: unknown, field: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RestError(REST_STATUS.BAD_REQUEST, '"%fieldName" is required. Enter and try again.', { fieldName: field })
  }
  return body
}

/** The body of a bulk request: an array of single bodies, one operation each. */
function bulk (body: unknown): readonly unknown[] {
  if (!Array.isArray(body)) throw new RestError(REST_STATUS.BAD_REQUEST, 'the body of a bulk request must be a JSON array, one element per operation')
  return body
}

/** An order named by its number, from a path parameter or a bulk element's `id`. */
function orderNamed (element: unknown): Candidate {
  const parsed = OrderIdSchema.safeParse(element, { error: issueMessage })
  if (!parsed.success) return { data: element ?? null, problem: describeIssues(parsed.error) }
  const problem = orderNumberProblem(parsed.data.id, 'id')
  return problem === null ? { data: { orderNumber: parsed.data.id } } : { data: element, problem }
}

function stockAdjustment (element: unknown): Candidate {
  const parsed = StockAdjustmentBodySchema.safeParse(element, { error: issueMessage })
  if (!parsed.success) return { data: element ?? null, problem: describeIssues(parsed.error) }
  return { data: { sku: parsed.data.adjustment.sku, quantity: parsed.data.adjustment.quantity } }
}

/** The handlers of the asynchronous and bulk routes. */
export const acceptHandlers = {
  placeOrder: async (call: RestCall) => await accept(call, PLACE_ORDER, [orderCandidate(single(call.body, 'entity'))], true),
  placeOrders: async (call: RestCall) => await accept(call, PLACE_ORDER, bulk(call.body).map(orderCandidate), true),
  cancelOrder: async (call: RestCall) => await accept(call, CANCEL_ORDER, [orderNamed({ id: call.params.id })], true),
  cancelOrders: async (call: RestCall) => await accept(call, CANCEL_ORDER, bulk(call.body).map(orderNamed), true),
  retryOrder: async (call: RestCall) => await accept(call, RETRY_ORDER, [orderNamed({ id: call.params.id })], true),
  retryOrders: async (call: RestCall) => await accept(call, RETRY_ORDER, bulk(call.body).map(orderNamed), true),
  adjustStock: async (call: RestCall) => await accept(call, ADJUST_STOCK, [stockAdjustment(single(call.body, 'adjustment'))], false),
  adjustStocks: async (call: RestCall) => await accept(call, ADJUST_STOCK, bulk(call.body).map(stockAdjustment), false)
}
