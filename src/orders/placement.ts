/**
 * The consumer of order placements (`order.place`), run by the operation runner inside the job's
 * transaction. Placement is the PlaceOrder command on the order aggregate, and reserving the
 * stock is decided with it, in the same transaction: the order's lines are reserved on their SKUs'
 * streams all or nothing (StockReservations: planned on the rows as read, written with one guarded
 * statement per batch at its end, so that the SKUs' locks are short), so a shortage fails the placement itself, with a code
 * the client reads on the operation (UNKNOWN_SKU, OUT_OF_STOCK), and nothing is left to undo. The
 * reserveStock step is recorded like every other step; the rest of the chain follows as jobs.
 *
 * The order's id is its operation's id: a placement delivered again finds its stream and answers
 * what was decided the first time, so it never places an order twice. One exception, by design
 * (issue 13, item 1): a placement that FAILED for stock runs again only when retryBulk reopened
 * its operation (a final operation is never claimed otherwise, and its failure committed with
 * it), so that order is decided again, against the stock as it is now: RetryPlacement records
 * PlacementRetried, then StockReserved or StockReservationFailed once more.
 */
import { run, type Db } from '../platform/db/pool.ts'
import { selectBulkOwners } from '../operations/sql/bulks.ts'
import { OrderError } from './domain/errors.ts'
import { ORDER_STATUS, type Order } from './domain/order.ts'
import { stockLines } from '../inventory/domain/stock.ts'
import type { PlaceOrderInput } from './domain/placeOrder.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { StockReservations } from '../inventory/reservations.ts'
import { loadOrders, OrderChanges, type OrderRecord } from './changes.ts'

/** What a placement operation answers when it has placed its order. */
export interface PlacementResult { readonly orderNumber: string, readonly status: string }

function answer (record: OrderRecord): PlacementResult | OperationRefused {
  const order = record.state as Order
  if (order.status === ORDER_STATUS.FAILED) {
    const failure = order.stockFailure!
    const detail = failure.shortages.map(s => `${s.sku}: ${s.requested} requested, ${s.available} available`).join('; ')
    return new OperationRefused(failure.code, `order ${order.orderNumber} cannot be placed: ${failure.code === 'UNKNOWN_SKU' ? 'unknown SKU' : 'not enough stock'} (${detail})`)
  }
  return { orderNumber: order.orderNumber, status: order.status }
}

/** An order record as loaded, to decide a batch again from (OrderChanges changes records in place). */
function copyOf (record: OrderRecord): OrderRecord {
  return { ...record }
}

export const placeOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const owners = new Map((await run<{ uuid: string, owner: string }>(tx, selectBulkOwners([...new Set(operations.map(op => op.bulk_uuid))])))
    .map(row => [row.uuid, row.owner]))
  const loaded = await loadOrders(tx, operations.map(op => op.id), { lock: false })
  const results = new Map<string, unknown>()

  const placing: ClaimedOperation[] = []
  for (const op of operations) {
    const record = loaded.get(op.id)!
    const status = record.state.status
    if (status !== ORDER_STATUS.NOT_PLACED && status !== ORDER_STATUS.FAILED) results.set(op.id, answer(record))
    else placing.push(op)
  }
  if (placing.length === 0) return results
  const skus = placing.flatMap(op => (op.data as PlaceOrderInput).items.map(item => item.sku))
  const context: BatchContext = { owners, loaded, results, now: new Date() }

  // The batch is planned on the stock as read, and written behind a savepoint: should its stock
  // guard fail, the writes are rolled back and the batch is planned again under the SKUs' locks.
  await run(tx, { text: 'SAVEPOINT reserve', values: [] })
  const first = await StockReservations.read(tx, skus)
  await decideAll(placing, first, context).commit(tx, boss)
  if (!await first.commit(tx)) {
    await run(tx, { text: 'ROLLBACK TO SAVEPOINT reserve', values: [] })
    const locked = await StockReservations.lock(tx, skus)
    await decideAll(placing, locked, context).commit(tx, boss)
    if (!await locked.commit(tx)) throw new Error('placement: a stock guard failed under the SKUs\' locks')
  }
  await run(tx, { text: 'RELEASE SAVEPOINT reserve', values: [] })
  return results
}

interface BatchContext {
  readonly owners: ReadonlyMap<string, string>
  readonly loaded: ReadonlyMap<string, OrderRecord>
  readonly results: Map<string, unknown>
  readonly now: Date
}

/** Decides every placement of the batch on copies of the orders as loaded, reserving on `stock`. */
function decideAll (placing: readonly ClaimedOperation[], stock: StockReservations, { owners, loaded, results, now }: BatchContext): OrderChanges {
  const changes = new OrderChanges()
  for (const op of placing) {
    const record = copyOf(loaded.get(op.id)!)
    const input = op.data as PlaceOrderInput
    if (op.ordering_key === null) throw new Error(`placement ${op.id} has no order number (accepted before numbers were given at acceptance)`)
    const metadata = { correlationId: op.bulk_uuid, causationId: op.id }
    try {
      changes.decide(record, record.state.status === ORDER_STATUS.FAILED
        ? { type: 'RetryPlacement', data: {}, now }
        : { type: 'PlaceOrder', data: { orderId: op.id, orderNumber: op.ordering_key, owner: owners.get(op.bulk_uuid) ?? 'admin', input }, now },
      metadata)
    } catch (error) {
      if (error instanceof OrderError) {
        results.set(op.id, new OperationRefused(error.code, error.message))
        continue
      }
      throw error
    }
    // The stock, as left by the placements before this one in the batch.
    const plan = stock.reserve(op.id, stockLines({ lines: input.items }), now, metadata)
    changes.decide(record, plan.ok
      ? { type: 'RecordStockReserved', data: {}, now }
      : { type: 'RecordStockShortage', data: { code: plan.code, shortages: plan.shortages }, now }, metadata)
    results.set(op.id, answer(record))
  }
  return changes
}
