/**
 * The consumer of order placements (`order.place`), run by the operation runner inside the job's
 * transaction. Placement is the PlaceOrder command on the order aggregate, and reserving the
 * stock is decided with it, in the same transaction: the order's lines are reserved on their SKUs'
 * streams all or nothing (planReservation), so a shortage fails the placement itself, with a code
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
 * importOptions: ImportOrder instead of PlaceOrder, and stock reserved only with stock: DEDUCT. Its
 * number was free at acceptance; one taken since (a concurrent request with the same number, whose
 * operation ran first: the ordering key serializes them) refuses it with DUPLICATE_ORDER_NUMBER.
 */
import { run, type Db } from '../platform/db/pool.ts'
import { selectBulkOwners } from '../operations/sql/bulks.ts'
import { ORDER_ERROR_CODE, OrderError } from './domain/errors.ts'
import { ORDER_STATUS, type Order } from './domain/order.ts'
import { stockLines } from '../inventory/domain/stock.ts'
import type { PlaceOrderInput } from './domain/placeOrder.ts'
import { IMPORT_STOCK, type OrderEvent } from './domain/events.ts'
import type { EventMetadata } from '../platform/events/store.ts'
import type { ImportItem } from './domain/importOrder.ts'
import { selectOrderIds } from './sql/orders.ts'
import { planReservation } from '../inventory/domain/inventory.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { InventoryChanges } from '../inventory/changes.ts'
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

function isImport (op: ClaimedOperation): boolean {
  return (op.data as Partial<ImportItem>).importOptions !== undefined
}

/** Whether the placement reserves stock: every one but an import with stock: SKIP. */
function touchesStock (op: ClaimedOperation): boolean {
  return !isImport(op) || (op.data as ImportItem).importOptions.stock !== IMPORT_STOCK.SKIP
}

/** An import with stock: DEDUCT ships its units with the reservation (StockShipped): InventoryShipped on each SKU, locked before. */
function shipDeducted (inventory: InventoryChanges, orderId: string, events: readonly OrderEvent[], now: Date, metadata: EventMetadata): void {
  for (const event of events) {
    if (event.type !== 'StockShipped') continue
    for (const line of event.data.lines) inventory.decide({ type: 'ShipStock', data: { sku: line.sku, orderId, quantity: line.quantity }, now }, metadata)
  }
}

export const placeOrders: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[], { boss }) => {
  const owners = new Map((await run<{ uuid: string, owner: string }>(tx, selectBulkOwners([...new Set(operations.map(op => op.bulk_uuid))])))
    .map(row => [row.uuid, row.owner]))
  const orders = await loadOrders(tx, operations.map(op => op.id), { lock: false })
  const changes = new OrderChanges()
  const inventory = new InventoryChanges()
  const now = new Date()
  const results = new Map<string, unknown>()

  const placing: ClaimedOperation[] = []
  for (const op of operations) {
    const record = orders.get(op.id)!
    const status = record.state.status
    if (status !== ORDER_STATUS.NOT_PLACED && status !== ORDER_STATUS.FAILED) results.set(op.id, answer(record))
    else placing.push(op)
  }
  const imports = placing.filter(op => isImport(op) && orders.get(op.id)!.state.status === ORDER_STATUS.NOT_PLACED).map(op => op.ordering_key!)
  const taken = new Map(imports.length === 0 ? [] : (await run<{ id: string, order_number: string }>(tx, selectOrderIds(imports))).map(row => [row.order_number, row.id]))
  await inventory.lock(tx, placing.filter(touchesStock).flatMap(op => (op.data as PlaceOrderInput).items.map(item => item.sku)))

  for (const op of placing) {
    const record = orders.get(op.id)!
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
    if (!touchesStock(op)) {
      results.set(op.id, answer(record))
      continue
    }
    // The stock, as left by the placements before this one in the batch.
    const plan = planReservation(op.id, stockLines({ lines: input.items }), inventory.states, now)
    if (plan.ok) {
      for (const { sku, events } of plan.appends) inventory.apply(sku, events, metadata)
      shipDeducted(inventory, op.id, changes.decide(record, { type: 'RecordStockReserved', data: {}, now }, metadata), now, metadata)
    } else {
      changes.decide(record, { type: 'RecordStockShortage', data: { code: plan.code, shortages: plan.shortages }, now }, metadata)
    }
    results.set(op.id, answer(record))
  }

  await inventory.commit(tx)
  await changes.commit(tx, boss)
  return results
}
