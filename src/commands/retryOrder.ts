import { run } from '../db/pool.ts'
import { TOPICS } from '../jobs/topology.ts'
import { selectPlacementExists } from '../orders/queries.ts'
import type { OperationKind } from './acceptOrders.ts'

/** What a retryOrder operation carries. */
export interface RetryOrderData { readonly orderNumber: string }

const ORDER_NUMBER = /^ORD-\d{8,}$/

/**
 * Resumes an order's chain: the steps (or compensations) that gave up are enqueued again, once the
 * outside system they call is fixed. The item names an order the caller placed (another owner's is
 * "no order", as a missing one). Its ordering key is the order number, so it runs after the
 * placement and any other operation on that order accepted before it.
 */
export const RETRY_ORDER: OperationKind = {
  topic: TOPICS.retryOrder.queue,
  check: async (data: unknown, db, owner) => {
    const number = (data as RetryOrderData).orderNumber
    if (!ORDER_NUMBER.test(number)) return `number must be an order number such as ORD-00000042, got "${number.slice(0, 40)}"`
    return (await run(db, selectPlacementExists(number, owner))).length > 0 ? null : `no order ${number}`
  },
  orderingKey: (data: unknown) => (data as RetryOrderData).orderNumber,
  numberOrder: false
}
