/**
 * The consumer of order cancellations (`order.cancel`), run by the operation runner inside the
 * job's transaction: the CancelOrder command on the order aggregate. Operations on one order run
 * in acceptance order, so its placement has finished by now. The compensations the canceled order
 * needs (release its stock, refund its payment, email the customer) are enqueued in the same
 * transaction, each a step of its own.
 */
import type { Db } from '../platform/db/pool.ts'
import { OrderError } from './domain/errors.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { loadNamedOrders, OrderChanges } from './changes.ts'

export const cancelOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const named = await loadNamedOrders(tx, operations)
  const changes = new OrderChanges()
  const now = new Date()
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const { number, record } = named.get(op.id)!
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
