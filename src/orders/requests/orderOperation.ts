import { run } from '../../platform/db/pool.ts'
import { selectOrderOwned } from '../sql/orders.ts'
import { ORDER_TOPICS } from '../topics.ts'
import type { OperationKind } from '../../operations/accept.ts'
import type { BulkKind } from '../../operations/domain/kind.ts'
import { IMPORTED_ORDER_NUMBER } from '../domain/importOrder.ts'

/** What an operation on an existing order carries (cancelOrder, retryOrder). */
export interface OrderOperationData { readonly orderNumber: string }

const ORDER_NUMBER = /^ORD-\d{8,}$/

/** Why `value` is not an order number, naming the field it came in (`field`), or null. Pure. */
export function orderNumberProblem (value: unknown, field: string): string | null {
  if (typeof value === 'string' && ORDER_NUMBER.test(value)) return null
  return `${field} must be an order number such as ORD-00000042, got ${typeof value === 'string' ? `"${value.slice(0, 40)}"` : JSON.stringify(value)?.slice(0, 40) ?? 'nothing'}`
}

/**
 * An operation on an order already accepted for placement, on `topic`: the item names an order the
 * caller placed, as the order itself says once placed (another owner's is "no order", as a missing
 * one). Its ordering key is the order
 * number, so it runs after the placement and anything else accepted before it on that order. An
 * imported order's number (importOrder.ts) names it as well; one that names no order is told what
 * an order number looks like.
 */
export function orderOperation (topic: string, bulkKind: BulkKind): OperationKind {
  return {
    topic,
    bulkKind,
    check: async (data: unknown, db, owner) => {
      const number = (data as OrderOperationData).orderNumber
      const problem = orderNumberProblem(number, 'number')
      if (problem !== null && !(typeof number === 'string' && IMPORTED_ORDER_NUMBER.test(number))) return problem
      const [row] = await run<{ owned: boolean }>(db, selectOrderOwned(number, owner, ORDER_TOPICS.placeOrder.queue))
      if (row?.owned === true) return null
      return problem === null ? `no order ${number}` : `${problem}; no imported order has that number`
    },
    orderingKey: (data: unknown) => (data as OrderOperationData).orderNumber,
    numberOrder: false
  }
}
