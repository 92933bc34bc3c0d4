/**
 * A placement batch's stock reservations (issue 17, item 3, hot SKUs). The batch plans on the SKUs'
 * rows as read without a lock, and writes every SKU it touched with one guarded statement at its end
 * (sql/reservations.ts): the row locks are held from that statement to the commit, not for the
 * whole batch, so batches that share SKUs overlap instead of running one after the other. When a
 * guard fails (another batch took the units meanwhile, or changed a SKU this one found short),
 * nothing was written: the batch is rolled back to a savepoint and planned again under the SKUs'
 * locks (`lock`), where its second write cannot fail. Stock is therefore never reserved twice (the guard, under the lock)
 * and a shortage is only ever decided on the SKU as it is under its lock or unchanged since read.
 */
import { run, type Db } from '../platform/db/pool.ts'
import type { EventMetadata } from '../platform/events/store.ts'
import { inventoryEventTime, inventoryStreamId, planReservation, type InventoryState, type ReservationPlan } from './domain/inventory.ts'
import type { StockLine } from './domain/stock.ts'
import { lockInventory, type InventoryRow } from './sql/inventory.ts'
import { reserveStock, selectStock, type ReservedRow, type SkuReservation } from './sql/reservations.ts'

interface Planned {
  readonly readVersion: number
  units: number
  short: boolean
  updatedAt: string | null
  readonly events: Array<{ type: string, data: unknown, metadata: unknown }>
}

function stateOf (row: InventoryRow): InventoryState {
  return { known: true, available: Number(row.available), reserved: Number(row.reserved), shipped: Number(row.shipped) }
}

export class StockReservations {
  readonly #states = new Map<string, InventoryState>()
  readonly #planned = new Map<string, Planned>()

  private constructor (rows: readonly InventoryRow[]) {
    for (const row of rows) {
      this.#states.set(row.sku, stateOf(row))
      this.#planned.set(row.sku, { readVersion: row.version, units: 0, short: false, updatedAt: null, events: [] })
    }
  }

  /** Reads `skus` as they are now, without a lock. */
  static async read (db: Db, skus: Iterable<string>): Promise<StockReservations> {
    const wanted = [...new Set(skus)]
    return new StockReservations(wanted.length === 0 ? [] : await run<InventoryRow>(db, selectStock(wanted)))
  }

  /** Locks `skus` (SKU order) and reads them: the plan made on these cannot be refused by the guard. */
  static async lock (db: Db, skus: Iterable<string>): Promise<StockReservations> {
    const wanted = [...new Set(skus)].sort()
    return new StockReservations(wanted.length === 0 ? [] : await run<InventoryRow>(db, lockInventory(wanted)))
  }

  /**
   * Plans one order's reservation on the stock as the batch's earlier orders left it: all its lines
   * or none. A shortage marks its SKUs, whose rows must then be unchanged when the batch writes.
   */
  reserve (orderId: string, lines: readonly StockLine[], now: Date, metadata: EventMetadata): ReservationPlan {
    const plan = planReservation(orderId, lines, this.#states, now)
    if (!plan.ok) {
      for (const { sku } of plan.shortages) {
        const planned = this.#planned.get(sku)
        if (planned !== undefined) planned.short = true
      }
      return plan
    }
    for (const { sku, events } of plan.appends) {
      const planned = this.#planned.get(sku)!
      for (const event of events) {
        if (event.type !== 'InventoryReserved') throw new Error(`a reservation planned ${event.type} on ${sku}`)
        const state = this.#states.get(sku)!
        this.#states.set(sku, { ...state, available: state.available - event.data.quantity, reserved: state.reserved + event.data.quantity })
        planned.units += event.data.quantity
        planned.updatedAt = inventoryEventTime(event)
        planned.events.push({ type: event.type, data: event.data, metadata })
      }
    }
    return plan
  }

  /**
   * Writes the planned reservations in one guarded statement. Answers whether they were written:
   * false when a guard failed and nothing was (the caller rolls back what it decided on the plan,
   * and plans again on a `lock`).
   */
  async commit (tx: Db): Promise<boolean> {
    const reservations: SkuReservation[] = [...this.#planned]
      .filter(([, p]) => p.units > 0 || p.short)
      .map(([sku, p]) => ({ sku, streamId: inventoryStreamId(sku), units: p.units, readVersion: p.readVersion, short: p.short, updatedAt: p.updatedAt, events: p.events }))
    if (reservations.length === 0) return true
    const rows = await run<ReservedRow>(tx, reserveStock(reservations))
    return rows.length === reservations.length && rows.every(row => row.ok)
  }
}
