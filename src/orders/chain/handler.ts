/**
 * The consumer of one chain topic: a pg-boss batch worker. For a batch of jobs it
 *   1. reads the orders (no lock) and drops the jobs whose work is no longer due (done already,
 *      or the order ended);
 *   2. calls the outside system for each remaining job, all at once, with the step's idempotency
 *      key, outside any transaction;
 *   3. in one transaction: locks the orders, folds them again, records each outcome (the step's
 *      events, StepFailed for a failed attempt), writes the read model, enqueues the steps that
 *      became ready and completes (or fails, for pg-boss to retry with backoff) its own jobs,
 *      fenced to this attempt.
 * A crash anywhere before the commit leaves the jobs to be retried and the outside effects to be
 * answered again by their keys: exactly once, as the issue asks. A failure retries its step alone.
 */
import type { JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import { OUTSIDE_SYSTEMS, TransientOutsideError, type OutsideSystems } from '../../adapters/ports.ts'
import { bossDb, transaction } from '../../platform/db/pool.ts'
import { OrderError } from '../domain/errors.ts'
import type { OrderEvent } from '../domain/events.ts'
import { COMPENSATION, ORDER_STATUS, ORDER_STEP, type Order, type OrderState } from '../domain/order.ts'
import { stockLines } from '../../inventory/domain/stock.ts'
import type { Logger } from '../../platform/log.ts'
import type { OrderView } from '../orderView.ts'
import { affectedBy } from '../../platform/jobs/boss.ts'
import { describe, isTransient } from '../../platform/jobs/errors.ts'
import { InventoryChanges } from '../../inventory/changes.ts'
import { dueWork, loadOrders, OrderChanges, type OrderRecord } from '../changes.ts'
import type { EventMetadata } from '../../platform/events/store.ts'
import { giveUpTimers, scheduleGiveUps, type GiveUpJob } from './giveUp.ts'
import { idempotencyKey, STEP_WORK, type Outcome } from './steps.ts'
import type { ChainJob, ChainTopic } from './topics.ts'
import { reportSteps, type SettledStep } from './metrics.ts'

export interface ChainDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly log: Logger
  readonly systems: OutsideSystems
  /** ORDER_GIVE_UP_AFTER_SECONDS: how long an order waits for retryOrder once a forward step gave up (giveUp.ts). */
  readonly giveUpAfterSeconds: number
}

/** The steps whose outcome moves stock on the SKUs' streams, in the step's transaction. */
const STOCK_WORK: ReadonlySet<string> = new Set([COMPENSATION.RELEASE_STOCK, ORDER_STEP.CREATE_SHIPMENT])

/**
 * The inventory side of an order's events: StockReleased gives the reserved units back,
 * StockShipped turns them into shipped ones (issue 13, item 2). The SKUs were locked before.
 */
function moveStock (inventory: InventoryChanges, record: OrderRecord, events: readonly OrderEvent[], now: Date, metadata: EventMetadata): void {
  for (const event of events) {
    if (event.type !== 'StockReleased' && event.type !== 'StockShipped') continue
    const type = event.type === 'StockReleased' ? 'ReleaseStock' : 'ShipStock'
    for (const line of event.data.lines) {
      inventory.decide({ type, data: { sku: line.sku, orderId: record.id, quantity: line.quantity }, now }, metadata)
    }
  }
}

type Attempt =
  | { readonly kind: 'skip' }
  | { readonly kind: 'done', readonly outcome: Outcome }
  | { readonly kind: 'failed', readonly message: string, readonly transient: boolean, readonly attempt: number }

/** Longest lastError kept: a readable line, not a stack. */
const MAX_ERROR_LENGTH = 500

function isDue (state: OrderState | undefined, topic: ChainTopic): state is Order {
  return state !== undefined && dueWork(state).includes(topic.work)
}

/**
 * Which attempt of the step this is, for the outside system (an adapter that recovers from a crash
 * looks harder from the second attempt on) and for StepFailed: the attempts the order's view counts
 * (a job given again by retryOrder starts its own count at 1), or the job's, whichever is further.
 */
function attemptOf (job: JobWithMetadata<ChainJob>, view: OrderView | null, topic: ChainTopic): number {
  const recorded = view?.steps.find(step => step.name === topic.work)?.attempts ?? 0
  return Math.max(job.retryCount, recorded) + 1
}

/** A canceled order whose payment was neither captured (as far as its stream knows) nor declined. */
function isUncapturedCancellation (state: OrderState | undefined): boolean {
  return state?.status === ORDER_STATUS.CANCELED && state.done.capturePayment === undefined && state.paymentDeclined === null
}

/** An adapter's message: `<system>: <what failed>`, then detail after ': ' or ' (' (a status line, a body, stderr). */
const OUTSIDE_MESSAGE = new RegExp(`^((?:${OUTSIDE_SYSTEMS.join('|')}): .*?)(?:: | \\(|$)`)

/**
 * Calls the outside system for every job of the batch whose work is still due, all at once and
 * outside any transaction, each with the step's idempotency key: the attempt of each job.
 */
async function attemptAll (jobs: ReadonlyArray<JobWithMetadata<ChainJob>>, before: Awaited<ReturnType<typeof loadOrders>>, topic: ChainTopic,
  deps: ChainDeps, log: Logger): Promise<Map<string, Attempt>> {
  const work = STEP_WORK[topic.work]
  const attempts = new Map<string, Attempt>()
  await Promise.all(jobs.map(async (job) => {
    const state = before.get(job.data.orderId)?.state
    const key = idempotencyKey(job.data.orderId, topic.work)
    const attempt = attemptOf(job, before.get(job.data.orderId)?.view ?? null, topic)
    try {
      if (!isDue(state, topic)) {
        // A capture of an order canceled meanwhile is not made now, but one made before (its answer lost,
        // or its attempt rolled back) is recorded, so that the money is refunded.
        const taken = topic.work === 'capturePayment' && isUncapturedCancellation(state) ? await deps.systems.payment.findCapture({ idempotencyKey: key, signal: job.signal }) : null
        attempts.set(job.id, taken === null ? { kind: 'skip' } : { kind: 'done', outcome: { type: 'RecordPaymentCaptured', data: { paymentId: taken.paymentId } } })
        return
      }
      // The job's signal goes to the outside system: an attempt pg-boss gave up on stops there (issue 13, item 6).
      const outcome = await work(state, { idempotencyKey: key, attempt, signal: job.signal }, deps.systems)
      attempts.set(job.id, { kind: 'done', outcome })
    } catch (error) {
      const transient = error instanceof TransientOutsideError || isTransient(error)
      log.info(transient ? 'step failed, transiently' : 'step failed', { jobId: job.id, orderId: job.data.orderId, attempt, error })
      attempts.set(job.id, { kind: 'failed', message: messageOf(error), transient, attempt })
    }
  }))
  return attempts
}

/**
 * What a failed attempt is called where clients read it (Order.steps.lastError, StepFailed): the
 * outside system and what failed, never the detail that follows (an ERP's response body, a print
 * command's stderr, an SMTP server's reply: text from elsewhere), nor a database's message text
 * (named by SQLSTATE only). The whole error goes to the worker's log.
 */
function messageOf (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const outside = OUTSIDE_MESSAGE.exec(message)?.[1]
  const text = outside ?? describe(error)
  return text.length > MAX_ERROR_LENGTH ? text.slice(0, MAX_ERROR_LENGTH - 1) + '…' : text
}

export function chainHandler (topic: ChainTopic, deps: ChainDeps) {
  const log = deps.log.child({ queue: topic.queue })

  return async (jobs: Array<JobWithMetadata<ChainJob>>): Promise<void> => {
    const started = performance.now()
    const orderIds = jobs.map(job => job.data.orderId)
    const before = await loadOrders(deps.pool, orderIds, { lock: false })

    const attempts = await attemptAll(jobs, before, topic, deps, log)
    const settled: SettledStep[] = []

    await transaction(deps.pool, async (tx) => {
      settled.length = 0
      const orders = await loadOrders(tx, orderIds, { lock: true, known: before })
      const changes = new OrderChanges()
      const inventory = new InventoryChanges()
      if (STOCK_WORK.has(topic.work)) {
        // Every SKU the batch gives back or ships, locked at once (SKU order) after the orders.
        await inventory.lock(tx, [...orders.values()].flatMap(record => isDue(record.state, topic) ? stockLines(record.state).map(line => line.sku) : []))
      }
      const now = new Date()
      const complete: Array<JobWithMetadata<ChainJob>> = []
      const fail: Array<JobWithMetadata<ChainJob>> = []
      const timers: GiveUpJob[] = []

      for (const job of jobs) {
        // Abandoned (expired, or its claim lost): pg-boss has failed it already, for a retry to record it.
        if (job.signal?.aborted === true) continue
        const record = orders.get(job.data.orderId)!
        const attempt = attempts.get(job.id)!
        const metadata = { correlationId: record.correlationId, causationId: job.id }
        const ids = { job, orderNumber: record.view?.number }
        if (attempt.kind === 'skip') {
          complete.push(job)
          settled.push({ ...ids, status: 'skipped' })
          continue
        }
        // An outcome is offered to the aggregate even when the order moved on: it decides (a capture
        // after a cancellation is recorded, and refunded; anything else on an ended order is refused).
        if (attempt.kind === 'done') {
          try {
            moveStock(inventory, record, changes.decide(record, { ...attempt.outcome, now } as never, metadata), now, metadata)
          } catch (error) {
            // The order moved on while the outside system answered (it was canceled): nothing to record.
            if (!(error instanceof OrderError)) throw error
            log.info('step outcome not recorded', { jobId: job.id, orderId: record.id, code: error.code, reason: error.message })
          }
          complete.push(job)
          settled.push({ ...ids, status: 'done' })
          continue
        }
        if (!isDue(record.state, topic)) {
          complete.push(job)
          settled.push({ ...ids, status: 'skipped' })
          continue
        }
        const final = !attempt.transient || job.retryCount >= job.retryLimit
        const events = changes.decide(record, { type: 'RecordStepFailed', data: { step: topic.work, attempt: attempt.attempt, error: attempt.message, final }, now }, metadata)
        timers.push(...giveUpTimers(record.id, record.state, events))
        if (final) complete.push(job)
        else fail.push(job)
        settled.push({ ...ids, status: final ? 'gave_up' : 'retrying' })
      }

      await changes.commit(tx, deps.boss, inventory.events)
      await inventory.commit(tx, { events: false })
      await scheduleGiveUps(tx, deps.boss, timers, deps.giveUpAfterSeconds)
      // Job objects, not ids: pg-boss then settles each only if it is still this attempt's (its retryCount).
      if (complete.length > 0) {
        const affected = affectedBy(await deps.boss.complete(topic.queue, complete, null, { db: bossDb(tx) }))
        if (affected !== complete.length) throw new Error(`${complete.length - affected} job(s) of this batch are no longer held by this attempt; rolled back`)
      }
      if (fail.length > 0) {
        const affected = affectedBy(await deps.boss.fail(topic.queue, fail, { message: 'retrying' }, { db: bossDb(tx) }))
        if (affected !== fail.length) throw new Error(`${fail.length - affected} job(s) of this batch are no longer held by this attempt; rolled back`)
      }
      if ([...complete, ...fail].some(job => job.signal?.aborted)) throw new Error(`attempt abandoned after ${topic.expireInSeconds}s; rolled back`)
    })
    reportSteps(topic, settled, (performance.now() - started) / 1000, log)
  }
}

/**
 * The consumer of a chain topic's dead letter queue: jobs whose every attempt expired (their
 * workers died or hung). Records the step as given up on, so that the order shows it.
 */
export function chainDeadLetterHandler (topic: ChainTopic, deps: Omit<ChainDeps, 'systems'>) {
  return async (jobs: Array<JobWithMetadata<ChainJob>>): Promise<void> => {
    await transaction(deps.pool, async (tx) => {
      const orders = await loadOrders(tx, jobs.map(job => job.data.orderId), { lock: true })
      const changes = new OrderChanges()
      const now = new Date()
      const timers: GiveUpJob[] = []
      for (const job of jobs) {
        const record = orders.get(job.data.orderId)!
        if (!isDue(record.state, topic)) continue
        const events = changes.decide(record, {
          type: 'RecordStepFailed',
          data: { step: topic.work, attempt: topic.retryLimit + 1, error: `given up after ${topic.retryLimit + 1} attempts that did not finish (each may run ${topic.expireInSeconds}s)`, final: true },
          now
        }, { correlationId: record.correlationId, causationId: job.id })
        timers.push(...giveUpTimers(record.id, record.state, events))
      }
      await changes.commit(tx, deps.boss)
      await scheduleGiveUps(tx, deps.boss, timers, deps.giveUpAfterSeconds)
    })
  }
}
