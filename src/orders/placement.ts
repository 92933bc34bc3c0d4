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
 *
 * An import (placeOrders(mode: IMPORT), issue 15 part 4) runs here too, told by its operation's
 * importOptions: ImportOrder instead of PlaceOrder, and stock reserved only with stock: DEDUCT
 * (and shipped at once, under the SKUs' locks, after the batch's reservations). Its
 * number was free at acceptance; one taken since (a concurrent request with the same number, whose
 * operation ran first: the ordering key serializes them) refuses it with DUPLICATE_ORDER_NUMBER.
 */
import { run, type Db } from '../platform/db/pool.ts'
import { selectBulkOwners } from '../operations/sql/bulks.ts'
import { ORDER_ERROR_CODE, OrderError } from './domain/errors.ts'
import { ORDER_STATUS, type Order } from './domain/order.ts'
import { stockLines } from '../inventory/domain/stock.ts'
import type { PlaceOrderInput } from './domain/placeOrder.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { StockReservations } from '../inventory/reservations.ts'
import { loadOrders, OrderChanges, type OrderRecord } from './changes.ts'
import { IMPORT_STOCK, type OrderEvent } from './domain/events.ts'
import type { EventMetadata } from '../platform/events/store.ts'
import type { ImportItem } from './domain/importOrder.ts'
import { selectOrderIds } from './sql/orders.ts'
import { InventoryChanges } from '../inventory/changes.ts'

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

function isImport (op: ClaimedOperation): boolean {
  return (op.data as Partial<ImportItem>).importOptions !== undefined
}

/** Whether the placement reserves stock: every one but an import with stock: SKIP. */
function touchesStock (op: ClaimedOperation): boolean {
  return !isImport(op) || (op.data as ImportItem).importOptions.stock !== IMPORT_STOCK.SKIP
}

/** The units an import with stock: DEDUCT ships with its reservation (its StockShipped event). */
interface Deducted { readonly orderId: string, readonly events: readonly OrderEvent[], readonly metadata: EventMetadata }

/**
 * Ships what imports with stock: DEDUCT reserved (InventoryShipped on each SKU), under the SKUs'
 * locks: after the batch's reservations, as those are written by one guarded statement.
 */
async function shipDeducted (tx: Db, deducted: readonly Deducted[], now: Date): Promise<void> {
  const lines = deducted.flatMap(({ orderId, events, metadata }) => events.flatMap(event =>
    event.type === 'StockShipped' ? event.data.lines.map(line => ({ orderId, line, metadata })) : []))
  if (lines.length === 0) return
  const inventory = new InventoryChanges()
  await inventory.lock(tx, lines.map(({ line }) => line.sku))
  for (const { orderId, line, metadata } of lines) {
    inventory.decide({ type: 'ShipStock', data: { sku: line.sku, orderId, quantity: line.quantity }, now }, metadata)
  }
  await inventory.commit(tx)
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
  const skus = placing.filter(touchesStock).flatMap(op => (op.data as PlaceOrderInput).items.map(item => item.sku))
  const imports = placing.filter(op => isImport(op) && loaded.get(op.id)!.state.status === ORDER_STATUS.NOT_PLACED).map(op => op.ordering_key!)
  const taken = new Map(imports.length === 0 ? [] : (await run<{ id: string, order_number: string }>(tx, selectOrderIds(imports))).map(row => [row.order_number, row.id]))
  const context: BatchContext = { owners, loaded, results, taken, now: new Date() }

  // The batch is planned on the stock as read, and written behind a savepoint: should its stock
  // guard fail, the writes are rolled back and the batch is planned again under the SKUs' locks.
  await run(tx, { text: 'SAVEPOINT reserve', values: [] })
  const first = await StockReservations.read(tx, skus)
  let decided = decideAll(placing, first, context)
  await decided.changes.commit(tx, boss)
  if (!await first.commit(tx)) {
    await run(tx, { text: 'ROLLBACK TO SAVEPOINT reserve', values: [] })
    const locked = await StockReservations.lock(tx, skus)
    decided = decideAll(placing, locked, context)
    await decided.changes.commit(tx, boss)
    if (!await locked.commit(tx)) throw new Error('placement: a stock guard failed under the SKUs\' locks')
  }
  await run(tx, { text: 'RELEASE SAVEPOINT reserve', values: [] })
  await shipDeducted(tx, decided.deducted, context.now)
  return results
}

interface BatchContext {
  readonly owners: ReadonlyMap<string, string>
  readonly loaded: ReadonlyMap<string, OrderRecord>
  readonly results: Map<string, unknown>
  /** Order numbers an import names that an order holds already, with that order's id. */
  readonly taken: ReadonlyMap<string, string>
  readonly now: Date
}

/** Decides every placement of the batch on copies of the orders as loaded, reserving on `stock`. */
function decideAll (placing: readonly ClaimedOperation[], stock: StockReservations, { owners, loaded, results, taken, now }: BatchContext): { changes: OrderChanges, deducted: Deducted[] } {
  const changes = new OrderChanges()
  const deducted: Deducted[] = []
  for (const op of placing) {
    const record = copyOf(loaded.get(op.id)!)
    const input = op.data as PlaceOrderInput
    if (op.ordering_key === null) throw new Error(`placement ${op.id} has no order number (accepted before numbers were given at acceptance)`)
    const metadata = { correlationId: op.bulk_uuid, causationId: op.id }
    const owner = owners.get(op.bulk_uuid) ?? 'admin'
    const holder = taken.get(op.ordering_key)
    if (holder !== undefined && holder !== op.id) {
      results.set(op.id, new OperationRefused(ORDER_ERROR_CODE.DUPLICATE_ORDER_NUMBER, `order ${op.ordering_key} exists already; an import is not recorded under a taken number`))
      continue
    }
    try {
      changes.decide(record, record.state.status === ORDER_STATUS.FAILED
        ? { type: 'RetryPlacement', data: {}, now }
        : isImport(op)
          ? { type: 'ImportOrder', data: { orderId: op.id, owner, input, options: (op.data as ImportItem).importOptions }, now }
          : { type: 'PlaceOrder', data: { orderId: op.id, orderNumber: op.ordering_key, owner, input }, now },
      metadata)
    } catch (error) {
      if (error instanceof OrderError) {
        results.set(op.id, new OperationRefused(error.code, error.message))
        continue
      }
      throw error
    }
    if (touchesStock(op)) {
      // The stock, as left by the placements before this one in the batch.
      const plan = stock.reserve(op.id, stockLines({ lines: input.items }), now, metadata)
      if (plan.ok) deducted.push({ orderId: op.id, events: changes.decide(record, { type: 'RecordStockReserved', data: {}, now }, metadata), metadata })
      else changes.decide(record, { type: 'RecordStockShortage', data: { code: plan.code, shortages: plan.shortages }, now }, metadata)
    }
    results.set(op.id, answer(record))
  }
  return { changes, deducted }
}
