/**
 * The consumer of order retries (`order.retry`), run by the operation runner inside the job's
 * transaction. A step (or compensation) that gave up — its retries used up, or a permanent error —
 * has no job left and the order waits for it forever: this enqueues a new job for each such step
 * of the order and records StepRetried, so that the read model shows it PENDING again. Operations
 * on one order run in acceptance order, so a retry runs after anything accepted before it.
 */
import { bossDb, type Db } from '../platform/db/pool.ts'
import { ORDER_ERROR_CODE, OrderError } from './domain/errors.ts'
import type { OrderEvent } from './domain/events.ts'
import { ORDER_STATUS, orderStreamId } from './domain/order.ts'
import { readStreams } from '../platform/events/store.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { dueWork, givenUpWork, loadNamedOrders, OrderChanges } from './changes.ts'
import { CHAIN_WORK, type ChainJob, type ChainWork } from './chain/topics.ts'

/** What a retryOrder operation answers: the steps and compensations it enqueued again (none when nothing had given up). */
export interface RetryOrderResult {
  readonly orderNumber: string
  readonly retried: readonly ChainWork[]
}

export const retryOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const named = await loadNamedOrders(tx, operations)
  const orderIds = [...new Set([...named.values()].flatMap(({ record }) => record === undefined ? [] : [record.id]))]
  // Read under the lock, so the events agree with the states loaded; kept current as this batch appends.
  const streams = await readStreams<OrderEvent>(tx, orderIds.map(orderStreamId))
  const history = new Map(orderIds.map(id => [id, [...(streams.get(orderStreamId(id)) ?? [])] as OrderEvent[]]))
  const changes = new OrderChanges()
  const jobs = new Map<string, ChainJob[]>()
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
    const events = history.get(record.id)!
    const givenUp = givenUpWork(events)
    // dueWork: the steps a PLACED order may run now, or the compensations a CANCELED one still needs.
    const toRetry = dueWork(record.state).filter(work => givenUp.has(work))
    try {
      const retried: ChainWork[] = []
      for (const work of toRetry) {
        const recorded = changes.decide(record, { type: 'RecordStepRetried', data: { step: work }, now }, { correlationId: record.correlationId, causationId: op.id })
        events.push(...recorded)
        if (recorded.length === 0) continue
        const queue = CHAIN_WORK[work].queue
        jobs.set(queue, [...(jobs.get(queue) ?? []), { orderId: record.id }])
        retried.push(work)
      }
      results.set(op.id, { orderNumber: number, retried } satisfies RetryOrderResult)
    } catch (error) {
      if (!(error instanceof OrderError)) throw error
      results.set(op.id, new OperationRefused(error.code, error.message))
    }
  }
  await changes.commit(tx, boss)
  // StepRetried leaves dueWork as it was, so OrderChanges enqueues nothing for it: the jobs are ours.
  for (const [queue, data] of jobs) {
    await boss.insert(queue, data.map(job => ({ data: job })), { db: bossDb(tx) })
  }
  return results
}
