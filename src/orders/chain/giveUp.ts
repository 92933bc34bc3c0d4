/**
 * The give-up policy of the chain (issue 13, item 3). A forward step that gave up (its retries used
 * up, or a permanent error) has no job left, and its order would wait for ever with its stock
 * reserved. So the transaction that records the step's final StepFailed also enqueues a timer
 * job, `order.giveUp`, due ORDER_GIVE_UP_AFTER_SECONDS later. When it comes due, GiveUpOrder is
 * decided on the order: if that step is still given up since that very failure (no retryOrder
 * since, nor a newer give-up with a timer of its own) and the order's stock has not shipped, the
 * order records OrderGivenUp and OrderCanceled (STEP_GAVE_UP), and its compensations follow as for
 * any cancellation: the stock released, a capture refunded, the customer emailed. Otherwise the
 * timer records nothing. Deciding is idempotent, so a timer delivered twice cancels once.
 */
import type { JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import { bossDb, transaction, type Db } from '../../platform/db/pool.ts'
import type { ServiceTopicDefinition } from '../../platform/jobs/serviceTopics.ts'
import type { Logger } from '../../platform/log.ts'
import type { OrderEvent } from '../domain/events.ts'
import { ORDER_STATUS, ORDER_STEPS, type OrderState, type OrderStep } from '../domain/order.ts'
import { loadOrders, OrderChanges } from '../changes.ts'

/** Payload of a give-up timer: the order, and the step's give-up it was set for (StepFailed's failedAt). */
export interface GiveUpJob {
  readonly orderId: string
  readonly step: OrderStep
  readonly failedAt: string
}

/**
 * The timers' queue. Consumed by every worker (as webhooks and retention are), so that no
 * WORKER_TOPICS split leaves it without a consumer. Retried for about a day before its dead
 * letter queue, whose consumer decides the same way.
 */
export const GIVE_UP_TOPIC: ServiceTopicDefinition = Object.freeze({
  queue: 'order.giveUp',
  deadLetterQueue: 'order.giveUp.dead',
  retryLimit: 20,
  retryDelaySeconds: 10,
  retryBackoff: true,
  retryDelayMaxSeconds: 3600,
  expireInSeconds: 60,
  localConcurrency: 1,
  pollingIntervalSeconds: 5
})

const FORWARD: ReadonlySet<string> = new Set(ORDER_STEPS)

/**
 * The timers `events`, just recorded on an order now in `state`, call for: a forward step given up
 * while its stock is held. Not for an imported order: it holds no stock or money, and a historical
 * order is not canceled because its ERP export failed (its step stays FAILED, for retryOrder).
 */
export function giveUpTimers (orderId: string, state: OrderState, events: readonly OrderEvent[]): GiveUpJob[] {
  if (state.status !== ORDER_STATUS.PLACED || state.stockShipped || state.imported !== null) return []
  return events.flatMap(event => event.type === 'StepFailed' && event.data.final && FORWARD.has(event.data.step)
    ? [{ orderId, step: event.data.step as OrderStep, failedAt: event.data.failedAt }]
    : [])
}

/** Enqueues the timers through `tx`, each due `afterSeconds` from now (pg-boss's startAfter, on the database's clock). */
export async function scheduleGiveUps (tx: Db, boss: PgBoss, timers: readonly GiveUpJob[], afterSeconds: number): Promise<void> {
  if (timers.length === 0) return
  await boss.insert(GIVE_UP_TOPIC.queue, timers.map(data => ({ data, startAfter: afterSeconds })), { db: bossDb(tx) })
}

/** The consumer of `order.giveUp` (and of its dead letter queue): one transaction per batch. */
export function giveUpHandler (deps: { readonly pool: pg.Pool, readonly boss: PgBoss, readonly log: Logger }) {
  const log = deps.log.child({ queue: GIVE_UP_TOPIC.queue })
  return async (jobs: ReadonlyArray<JobWithMetadata<GiveUpJob>>): Promise<void> => {
    await transaction(deps.pool, async (tx) => {
      const orders = await loadOrders(tx, jobs.map(job => job.data.orderId), { lock: true })
      const changes = new OrderChanges()
      const now = new Date()
      for (const job of jobs) {
        const record = orders.get(job.data.orderId)!
        if (record.state.status === ORDER_STATUS.NOT_PLACED) continue
        const { step, failedAt } = job.data
        const events = changes.decide(record, { type: 'GiveUpOrder', data: { step, failedAt }, now }, { correlationId: record.correlationId, causationId: job.id })
        if (events.length > 0) log.info('order given up', { orderId: record.id, step, failedAt })
      }
      await changes.commit(tx, deps.boss)
    })
  }
}
