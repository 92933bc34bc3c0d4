import type { CancelOrderData } from '../../commands/cancelOrder.ts'
import { run } from '../../db/pool.ts'
import { cancelOrders } from '../../orders/queries.ts'
import { OperationRefused, type OperationProcessor } from '../runner.ts'

/**
 * Cancels orders. Operations on one order run in acceptance order, so the placement has finished
 * by now: its order is PLACED (now CANCELED), already CANCELED (nothing to do), or was never
 * created because the placement failed (refused, with that reason).
 */
export const cancelOrdersProcessor: OperationProcessor = async (tx, operations) => {
  const numbers = operations.map(op => (op.data as CancelOrderData).orderNumber)
  const rows = await run<{ order_number: string, status: string }>(tx, cancelOrders(numbers))
  const status = new Map(rows.map(row => [row.order_number, row.status]))
  return new Map(operations.map(op => {
    const number = (op.data as CancelOrderData).orderNumber
    const now = status.get(number)
    return [op.id, now === undefined
      ? new OperationRefused('ORDER_NOT_PLACED', `order ${number} was never placed (its placement failed)`)
      : { orderNumber: number, status: now }]
  }))
}
