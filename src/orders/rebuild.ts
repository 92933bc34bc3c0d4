/**
 * `npm run projections:rebuild`: the read models thrown away and folded again from the event log,
 * with the very functions that keep them live (evolveOrderView, the inventory aggregate's
 * evolve), so a rebuild yields what the live path wrote (test/projections.test.ts proves it).
 *
 * One transaction, with the read models locked against writers (EXCLUSIVE: readers go on, the
 * chain's steps wait), so nothing is decided on a half-built snapshot. Streams are read one page
 * at a time in stream order, so memory stays bounded by the page, not the log.
 */
import type pg from 'pg'
import { retryOnDeadlock, run, transaction, type Db } from '../platform/db/pool.ts'
import type { InventoryEvent } from '../inventory/domain/events.ts'
import { evolve as evolveInventory, initialState as initialInventory, inventoryEventTime } from '../inventory/domain/inventory.ts'
import type { OrderEvent } from './domain/events.ts'
import type { EventRow } from '../platform/events/sql.ts'
import { upsertInventory, type InventoryRow } from '../inventory/sql/inventory.ts'
import { upsertOrderViews } from './sql/orders.ts'
import { evolveOrderView, type OrderView } from './orderView.ts'
import * as sql from './sql/rebuild.ts'

const PAGE = 5000

export interface RebuildCounts { readonly orders: number, readonly inventory: number }

/** Folds every stream whose id starts with `prefix`, one stream at a time, handing each result to `flush` in batches. */
async function foldStreams<S, R> (db: Db, prefix: string, fold: (state: S | null, row: EventRow) => S, finish: (streamId: string, state: S) => R | null,
  flush: (rows: R[]) => Promise<void>): Promise<number> {
  let after: { streamId: string, version: number } | null = null
  let current = null as { streamId: string, state: S } | null
  let pending: R[] = []
  let count = 0
  const close = (): void => {
    if (current === null) return
    const result = finish(current.streamId, current.state)
    if (result !== null) { pending.push(result); count += 1 }
  }
  for (;;) {
    const rows: EventRow[] = await run<EventRow>(db, sql.readStreamsPage(prefix, after, PAGE))
    for (const row of rows) {
      if (current?.streamId !== row.stream_id) {
        close()
        current = { streamId: row.stream_id, state: fold(null, row) }
      } else {
        current.state = fold(current.state, row)
      }
    }
    if (pending.length >= 1000 || rows.length < PAGE) {
      if (rows.length < PAGE) { close(); current = null }
      if (pending.length > 0) await flush(pending)
      pending = []
    }
    if (rows.length < PAGE) return count
    const last = rows.at(-1)!
    after = { streamId: last.stream_id, version: last.stream_version }
  }
}

/**
 * Rebuilds both read models. Writers lock orders before inventory (a release) or inventory before
 * orders (a placement), so the rebuild's table locks can deadlock with one of them; PostgreSQL
 * then aborts one side, and when it is the rebuild it starts again (up to 3 times).
 */
export async function rebuildProjections (pool: pg.Pool): Promise<RebuildCounts> {
  return await retryOnDeadlock(async () => await rebuildOnce(pool))
}

/** Rebuilds the read models of orders placed before the event store (migration 0012 left their views empty), once. */
export async function rebuildIfIncomplete (pool: pg.Pool): Promise<RebuildCounts | null> {
  const [row] = await run<{ missing: boolean }>(pool, sql.selectViewsMissing())
  return row!.missing ? await rebuildProjections(pool) : null
}

async function rebuildOnce (pool: pg.Pool): Promise<RebuildCounts> {
  return await transaction(pool, async (tx) => {
    await run(tx, sql.lockReadModels())
    await run(tx, sql.clearOrders())
    await run(tx, sql.clearInventory())

    const orders = await foldStreams<OrderView | null, OrderView>(tx, 'order-',
      (view, row) => evolveOrderView(view, { type: row.type, data: row.data } as OrderEvent,
        { streamVersion: row.stream_version, causationId: (row.metadata as { causationId?: string }).causationId }),
      (_, view) => view,
      async (views) => { await run(tx, upsertOrderViews(views)) })

    const inventory = await foldStreams<{ state: ReturnType<typeof initialInventory>, version: number, updatedAt: string }, InventoryRow>(tx, 'inventory-',
      (sku, row) => {
        const event = { type: row.type, data: row.data } as InventoryEvent
        return { state: evolveInventory(sku?.state ?? initialInventory(), event), version: row.stream_version, updatedAt: inventoryEventTime(event) }
      },
      (streamId, sku) => ({ sku: streamId.slice('inventory-'.length), available: sku.state.available, reserved: sku.state.reserved, shipped: sku.state.shipped, version: sku.version, updated_at: sku.updatedAt }),
      async (rows) => { await run(tx, upsertInventory(rows)) })

    return { orders, inventory }
  })
}
