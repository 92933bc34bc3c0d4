/**
 * The consumer of order retries (`order.retry`), run by the operation runner inside the job's
 * transaction. A step (or compensation) that gave up — its retries used up, or a permanent error —
 * has no job left and the order waits for it (or, for a forward step, for its give-up timer): this
 * records StepRetried for each such step of the order, which makes it due again, so OrderChanges
 * enqueues its job in the same transaction and the read model shows it PENDING again. Operations on
 * one order run in acceptance order, so a retry runs after anything accepted before it.
 */
import type { Db } from '../platform/db/pool.ts'
import { ORDER_ERROR_CODE, OrderError } from './domain/errors.ts'
import { ORDER_STATUS } from './domain/order.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { givenUpWork, loadNamedOrders, OrderChanges } from './changes.ts'
import type { ChainWork } from './chain/topics.ts'

/** What a retryOrder operation answers: the steps and compensations it enqueued again (none when nothing had given up). */
export interface RetryOrderResult {
  readonly orderNumber: string
  readonly retried: readonly ChainWork[]
}

export const retryOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const named = await loadNamedOrders(tx, operations)
  const changes = new OrderChanges()
  const now = new Date()
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const { number, record } = named.get(op.id)!
    if (record === undefined || record.state.status === ORDER_STATUS.NOT_PLACED) {
      results.set(op.id, new OperationRefused('ORDER_NOT_PLACED', `order ${number} was never placed (its placement failed)`))
      continue
    }
    if (record.state.status === ORDER_STATUS.COMPLETED) {
      results.set(op.id, new OperationRefused(ORDER_ERROR_CODE.ORDER_COMPLETED, `order ${number} is completed: nothing is left to retry`))
      continue
    }
    if (record.state.status === ORDER_STATUS.FAILED) {
      results.set(op.id, new OperationRefused(ORDER_ERROR_CODE.ORDER_FAILED, `the placement of order ${number} failed; it has no steps to retry`))
      continue
    }
    try {
      const retried: ChainWork[] = []
      // The steps a PLACED order may run now, or the work a CANCELED one still needs, that gave up.
      for (const work of givenUpWork(record.state)) {
        const recorded = changes.decide(record, { type: 'RecordStepRetried', data: { step: work }, now }, { correlationId: record.correlationId, causationId: op.id })
        if (recorded.length > 0) retried.push(work)
      }
      results.set(op.id, { orderNumber: number, retried } satisfies RetryOrderResult)
    } catch (error) {
      if (!(error instanceof OrderError)) throw error
      results.set(op.id, new OperationRefused(error.code, error.message))
    }
  }
  await changes.commit(tx, boss)
  return results
}
