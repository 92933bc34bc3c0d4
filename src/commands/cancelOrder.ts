import { run } from '../db/pool.ts'
import { TOPICS } from '../jobs/topology.ts'
import { selectPlacementExists } from '../orders/queries.ts'
import type { OperationKind } from './acceptOrders.ts'

/** What a cancelOrder operation carries. */
export interface CancelOrderData { readonly orderNumber: string }

const ORDER_NUMBER = /^ORD-\d{8,}$/

/**
 * Order cancellation: the item names an order the caller placed (another owner's is "no order", as
 * a missing one). Its ordering key is the order number, so it runs after the placement and any
 * other operation on that order accepted before it.
 */
export const CANCEL_ORDER: OperationKind = {
  topic: TOPICS.cancelOrder.queue,
  check: async (data: unknown, db, owner) => {
    const number = (data as CancelOrderData).orderNumber
    if (!ORDER_NUMBER.test(number)) return `number must be an order number such as ORD-00000042, got "${number.slice(0, 40)}"`
    return (await run(db, selectPlacementExists(number, owner))).length > 0 ? null : `no order ${number}`
  },
  orderingKey: (data: unknown) => (data as CancelOrderData).orderNumber,
  numberOrder: false
}
