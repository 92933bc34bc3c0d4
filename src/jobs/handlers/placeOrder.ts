import { randomUUID } from 'node:crypto'
import { run } from '../../db/pool.ts'
import { orderTotal, type PlaceOrderInput } from '../../domain/order/placeOrder.ts'
import { insertOrders } from '../../orders/queries.ts'
import type { OperationProcessor } from '../runner.ts'

/** Creates the orders of a batch of accepted order placements; each operation's result is its order number. */
export const placeOrders: OperationProcessor = async (tx, operations) => {
  const rows = await run<{ operation_id: string, order_number: string }>(tx, insertOrders(operations.map(operation => {
    const input = operation.data as PlaceOrderInput
    return {
      id: randomUUID(),
      operationId: operation.id,
      customerEmail: input.customerEmail,
      currency: input.currency,
      items: input.items,
      shippingAddress: input.shippingAddress,
      total: orderTotal(input.items)
    }
  })))
  return new Map(rows.map(row => [row.operation_id, { orderNumber: row.order_number }]))
}
