/**
 * The consumer of order cancellations (`order.cancel`), run by the operation runner inside the
 * job's transaction: the CancelOrder command on the order aggregate. Operations on one order run
 * in acceptance order, so its placement has finished by now. The compensations the canceled order
 * needs (release its stock, refund its payment, email the customer) are enqueued in the same
 * transaction, each a step of its own.
 */
import type { CancelOrderData } from '../commands/cancelOrder.ts'
import { run, type Db } from '../db/pool.ts'
import { OrderError } from '../domain/order/errors.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../jobs/runner.ts'
import { selectOrderIds } from '../orders/queries.ts'
import { loadOrders, OrderChanges } from './orders.ts'

export const cancelOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const numbers = operations.map(op => (op.data as CancelOrderData).orderNumber)
  const ids = new Map((await run<{ id: string, order_number: string }>(tx, selectOrderIds(numbers))).map(row => [row.order_number, row.id]))
  const orders = await loadOrders(tx, [...ids.values()], { lock: true })
  const changes = new OrderChanges()
  const now = new Date()
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const number = (op.data as CancelOrderData).orderNumber
    const id = ids.get(number)
    const record = id === undefined ? undefined : orders.get(id)
    if (record === undefined) {
      results.set(op.id, new OperationRefused('ORDER_NOT_PLACED', `order ${number} was never placed (its placement failed)`))
      continue
    }
    try {
      changes.decide(record, { type: 'CancelOrder', data: {}, now }, { correlationId: record.correlationId, causationId: op.id })
      results.set(op.id, { orderNumber: number, status: record.state.status })
    } catch (error) {
      if (!(error instanceof OrderError)) throw error
      results.set(op.id, new OperationRefused(error.code, error.message))
    }
  }
  await changes.commit(tx, boss)
  return results
}
