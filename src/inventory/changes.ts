/**
 * SKUs' inventory inside a transaction: their rows are locked (in SKU order) and read as the
 * streams' snapshots; commands are decided on them by the pure inventory aggregate; `commit`
 * appends the events and writes the rows back. Every writer of a SKU goes through here, so the
 * row's version is the stream's.
 */
import { run, type Db } from '../platform/db/pool.ts'
import type { InventoryCommand } from './domain/commands.ts'
import type { InventoryEvent } from './domain/events.ts'
import { decide, evolve, inventoryEventTime, inventoryStreamId, type InventoryState } from './domain/inventory.ts'
import { appendEvents, type EventMetadata } from '../platform/events/store.ts'
import type { VersionedEvent } from '../platform/events/sql.ts'
import { lockInventory, upsertInventory, type InventoryRow } from './sql/inventory.ts'

interface Sku {
  state: InventoryState
  version: number
  updatedAt: string
}

export class InventoryChanges {
  readonly #skus = new Map<string, Sku>()
  /** Each locked SKU's current state, kept beside #skus so that `states` costs nothing on the placement's hot path. */
  readonly #states = new Map<string, InventoryState>()
  readonly #events: VersionedEvent[] = []
  readonly #changed = new Set<string>()

  /** Locks and reads `skus` (all a transaction will touch, in one call: the lock order is SKU order). */
  async lock (db: Db, skus: Iterable<string>): Promise<void> {
    const wanted = [...new Set(skus)].filter(sku => !this.#skus.has(sku)).sort()
    if (wanted.length === 0) return
    if (this.#skus.size > 0) throw new Error('InventoryChanges.lock: lock every SKU at once, so that the lock order stays SKU order')
    const rows = await run<InventoryRow>(db, lockInventory(wanted))
    for (const row of rows) {
      this.#skus.set(row.sku, { state: { known: true, available: row.available, reserved: row.reserved, shipped: row.shipped }, version: row.version, updatedAt: row.updated_at })
      this.#states.set(row.sku, this.#skus.get(row.sku)!.state)
    }
    for (const sku of wanted) {
      if (this.#skus.has(sku)) continue
      this.#skus.set(sku, { state: { known: false, available: 0, reserved: 0, shipped: 0 }, version: 0, updatedAt: '' })
      this.#states.set(sku, this.#skus.get(sku)!.state)
    }
  }

  /** The locked SKUs' states (an unknown SKU: known false). */
  get states (): ReadonlyMap<string, InventoryState> {
    return this.#states
  }

  /** Decides a command on a locked SKU and applies its events; throws InventoryError when refused. */
  decide (command: InventoryCommand, metadata: EventMetadata): InventoryEvent[] {
    const sku = this.#sku(command.data.sku)
    const events = decide(command, sku.state)
    this.apply(command.data.sku, events, metadata)
    return events
  }

  /** Applies events decided elsewhere (planReservation) to a locked SKU. */
  apply (skuName: string, events: readonly InventoryEvent[], metadata: EventMetadata): void {
    const sku = this.#sku(skuName)
    for (const event of events) {
      sku.version += 1
      sku.state = evolve(sku.state, event)
      this.#states.set(skuName, sku.state)
      sku.updatedAt = inventoryEventTime(event)
      this.#events.push({ streamId: inventoryStreamId(skuName), streamVersion: sku.version, type: event.type, data: event.data, metadata })
    }
    if (events.length > 0) this.#changed.add(skuName)
  }

  #sku (name: string): Sku {
    const sku = this.#skus.get(name)
    if (!sku) throw new Error(`SKU ${name} was not locked before it was changed`)
    return sku
  }

  /** The events decided, for a caller that appends them in its own statement (then `commit(tx, { events: false })`). */
  get events (): readonly VersionedEvent[] {
    return this.#events
  }

  /** Appends the events (unless the caller appended `events` already) and writes the rows back. */
  async commit (tx: Db, options: { events: boolean } = { events: true }): Promise<void> {
    if (options.events) await appendEvents(tx, this.#events)
    const rows = [...this.#changed].map(name => {
      const { state, version, updatedAt } = this.#sku(name)
      return { sku: name, available: state.available, reserved: state.reserved, shipped: state.shipped, version, updated_at: updatedAt }
    })
    if (rows.length > 0) await run(tx, upsertInventory(rows))
  }
}
