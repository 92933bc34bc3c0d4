import { randomUUID } from 'node:crypto'
import { run } from '../../db/pool.ts'
import { orderTotal, type PlaceOrderInput } from '../../domain/order/placeOrder.ts'
import { insertOrders, selectOrderNumbers } from '../../orders/queries.ts'
import type { OperationProcessor } from '../runner.ts'

/** Creates the orders of a batch of accepted order placements; each operation's result is its order number. */
export const placeOrders: OperationProcessor = async (tx, operations) => {
  const rows = await run<{ operation_id: string, order_number: string }>(tx, insertOrders(operations.map(operation => {
    const input = operation.data as PlaceOrderInput
    return {
      id: randomUUID(),
      operationId: operation.id,
      orderNumber: operation.ordering_key,
      customerEmail: input.customerEmail,
      currency: input.currency,
      items: input.items,
      shippingAddress: input.shippingAddress,
      total: orderTotal(input.items)
    }
  })))
  const results = new Map(rows.map(row => [row.operation_id, { orderNumber: row.order_number }]))
  // An operation missing here had its order committed by another attempt while ours waited on the
  // unique operation_id (an expired attempt that still finished): that order is the result.
  const missing = operations.filter(op => !results.has(op.id)).map(op => op.id)
  if (missing.length > 0) {
    for (const row of await run<{ operation_id: string, order_number: string }>(tx, selectOrderNumbers(missing))) {
      results.set(row.operation_id, { orderNumber: row.order_number })
    }
  }
  return results
}
