/**
 * Orders inside a transaction: load their streams folded (the aggregate's state and the read
 * model's view), decide commands on them, and commit what was decided in one go: the events (one
 * statement for all streams), the views (one statement), and the jobs of the work that became due
 * (one insert per queue). A step's events, its read model and its follow-up jobs therefore commit
 * together with the completion of its own job, or not at all (issue 4, "Exactly once").
 */
import type { PgBoss } from 'pg-boss'
import { bossDb, run, type Db } from '../platform/db/pool.ts'
import { traceOfJob } from '../platform/tracing/tracing.ts'
import type { OrderOperationData } from './requests/orderOperation.ts'
import type { OrderCommand } from './domain/commands.ts'
import type { OrderEvent } from './domain/events.ts'
import { decide } from './domain/decide.ts'
import { evolve, initialState, openWork, orderStreamId, ORDER_STATUS, ORDER_STEP, pendingSteps, type OrderState } from './domain/order.ts'
import { appendEvents, readStreams, type EventMetadata } from '../platform/events/store.ts'
import type { ClaimedOperation } from '../operations/runner.ts'
import type { VersionedEvent } from '../platform/events/sql.ts'
import { lockOrders, selectOrderIds, upsertOrderViews } from './sql/orders.ts'
import { evolveOrderView, type OrderView } from './orderView.ts'
import { CHAIN_WORK, type ChainJob, type ChainWork } from './chain/topics.ts'
import { IN_TRANSACTION_WORK } from './chain/steps.ts'

/** An order as folded from its stream, changed in place by OrderChanges. */
export interface OrderRecord {
  readonly id: string
  /** The bulk the order was placed in (OrderPlaced's correlation): every later event shares it. */
  readonly correlationId: string
  state: OrderState
  /** The stream's version: what the next event's version follows. */
  version: number
  view: OrderView | null
}

/**
 * Loads orders by id (a missing stream gives NOT_PLACED at version 0). With `lock`, their rows in
 * the orders read model are locked first (in id order): every writer of an order takes that lock,
 * so writers of one order queue up instead of conflicting on its stream. `known` are the same
 * orders as read before (without the lock): one still at the version its row holds now is taken
 * as it is, and only the others are read again.
 */
export async function loadOrders (db: Db, ids: readonly string[], options: { lock: boolean, known?: ReadonlyMap<string, OrderRecord> }): Promise<Map<string, OrderRecord>> {
  const unique = [...new Set(ids)].sort()
  const loaded = new Map<string, OrderRecord>()
  let toRead = unique
  if (options.lock && unique.length > 0) {
    const versions = new Map((await run<{ id: string, version: number }>(db, lockOrders(unique))).map(row => [row.id, row.version]))
    toRead = unique.filter(id => {
      const known = options.known?.get(id)
      if (known === undefined || known.version === 0 || versions.get(id) !== known.version) return true
      loaded.set(id, { ...known })
      return false
    })
  }
  const streams = await readStreams<OrderEvent>(db, toRead.map(orderStreamId))
  for (const id of toRead) {
    const events = streams.get(orderStreamId(id)) ?? []
    let state = initialState()
    let view: OrderView | null = null
    for (const event of events) {
      state = evolve(state, event)
      view = evolveOrderView(view, event, { streamVersion: event.streamVersion, causationId: event.metadata.causationId })
    }
    loaded.set(id, { id, correlationId: events[0]?.metadata.correlationId ?? id, state, version: events.at(-1)?.streamVersion ?? 0, view })
  }
  return loaded
}

/**
 * The work an order's state makes due, each with a job: the steps that may run now, the
 * compensations it needs, and the capture step of an order canceled mid-payment (openWork), but
 * not what gave up (no job carries it until retryOrder: StepRetried makes it due again).
 */
export function dueWork (state: OrderState): ChainWork[] {
  if (state.status === ORDER_STATUS.NOT_PLACED) return []
  // reserveStock is done by the placement itself (src/orders/placement.ts); it never has a job.
  return openWork(state).filter((work): work is ChainWork => work !== ORDER_STEP.RESERVE_STOCK && state.givenUp[work] === undefined)
}

/** The work retryOrder may give a job again: open, and given up (its latest StepFailed final). */
export function givenUpWork (state: OrderState): ChainWork[] {
  if (state.status === ORDER_STATUS.NOT_PLACED) return []
  return openWork(state).filter((work): work is ChainWork => work !== ORDER_STEP.RESERVE_STOCK && state.givenUp[work] !== undefined)
}

/** An operation on an existing order (cancelOrder, retryOrder) and the order its number names. */
export interface NamedOrder {
  readonly number: string
  /** Undefined when no order has that number (its placement failed before the order existed). */
  readonly record: OrderRecord | undefined
}

/** The orders that operations on existing orders name by number, loaded and locked, by operation id. */
export async function loadNamedOrders (db: Db, operations: readonly ClaimedOperation[]): Promise<Map<string, NamedOrder>> {
  const numbers = operations.map(op => (op.data as OrderOperationData).orderNumber)
  const ids = new Map((await run<{ id: string, order_number: string }>(db, selectOrderIds(numbers))).map(row => [row.order_number, row.id]))
  const orders = await loadOrders(db, [...ids.values()], { lock: true })
  return new Map(operations.map(op => {
    const number = (op.data as OrderOperationData).orderNumber
    const id = ids.get(number)
    return [op.id, { number, record: id === undefined ? undefined : orders.get(id) }]
  }))
}

/** What one transaction decides on orders, committed by `commit`. */
export class OrderChanges {
  readonly #events: VersionedEvent[] = []
  readonly #changed = new Map<string, OrderRecord>()
  readonly #jobs = new Map<string, ChainJob[]>()

  /**
   * Decides `command` on `record` and applies the events to it; throws OrderError when the order's
   * state refuses it (nothing is then recorded). Work that became due and calls no outside system
   * is done in the same transaction, and an order whose last step this was is completed there
   * (#react); the other work that became due gets its job.
   */
  decide (record: OrderRecord, command: OrderCommand, metadata: EventMetadata): OrderEvent[] {
    const before = new Set(dueWork(record.state))
    const events = decide(command, record.state)
    this.#apply(record, events, metadata)
    this.#react(record, command.now, metadata)
    for (const work of dueWork(record.state)) {
      if (before.has(work)) continue
      const queue = CHAIN_WORK[work].queue
      const jobs = this.#jobs.get(queue) ?? []
      // In the trace of the job whose decision made the work due (its causation).
      jobs.push({ orderId: record.id, ...(metadata.causationId !== undefined ? traceOfJob(metadata.causationId) : {}) })
      this.#jobs.set(queue, jobs)
    }
    return events
  }

  /**
   * The reactions that call no outside system, in this transaction (issue 17, item 3): work of
   * IN_TRANSACTION_WORK that became due is recorded at once (which may make more due), and an
   * order whose last step is done is completed.
   */
  #react (record: OrderRecord, now: Date, metadata: EventMetadata): void {
    for (;;) {
      const state = record.state
      if (state.status === ORDER_STATUS.PLACED && pendingSteps(state).length === 0) {
        this.#apply(record, decide({ type: 'CompleteOrder', data: {}, now }, state), metadata)
        return
      }
      const work = dueWork(state).find(due => IN_TRANSACTION_WORK[due] !== undefined)
      if (work === undefined || state.status === ORDER_STATUS.NOT_PLACED) return
      const reaction = decide({ ...IN_TRANSACTION_WORK[work]!(state), now } as OrderCommand, state)
      if (reaction.length === 0) return
      this.#apply(record, reaction, metadata)
    }
  }

  #apply (record: OrderRecord, events: readonly OrderEvent[], metadata: EventMetadata): void {
    for (const event of events) {
      record.version += 1
      record.state = evolve(record.state, event)
      record.view = evolveOrderView(record.view, event, { streamVersion: record.version, causationId: metadata.causationId })
      this.#events.push({ streamId: orderStreamId(record.id), streamVersion: record.version, type: event.type, data: event.data, metadata })
    }
    if (events.length > 0) this.#changed.set(record.id, record)
  }

  get changedOrders (): number {
    return this.#changed.size
  }

  /**
   * Appends the events, writes the views and enqueues the new work, all through `tx`. `alongside`
   * are other streams' events of the same transaction (the SKUs' of a shipment or a release),
   * appended in the same statement: one insert into the event table per batch (issue 17, item 3).
   */
  async commit (tx: Db, boss: PgBoss, alongside: readonly VersionedEvent[] = []): Promise<void> {
    await appendEvents(tx, alongside.length > 0 ? [...this.#events, ...alongside] : this.#events)
    const views = [...this.#changed.values()].map(record => record.view).filter(view => view !== null)
    if (views.length > 0) await run(tx, upsertOrderViews(views))
    for (const [queue, jobs] of this.#jobs) {
      await boss.insert(queue, jobs.map(data => ({ data })), { db: bossDb(tx) })
    }
  }
}
