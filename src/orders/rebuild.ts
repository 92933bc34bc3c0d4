/**
 * `npm run projections:rebuild`: the read models folded again from the event log, with the very
 * functions that keep them live (evolveOrderView, the inventory aggregate's evolve), so a rebuild
 * yields what the live path wrote (test/orderChain.test.ts proves it).
 *
 * Without stopping the world (issue 13, item 9): the models are folded into shadow tables
 * (src/platform/db/shadowTables.ts) in batches, each its own short transaction, while placements
 * and the chain go on writing the live tables. Streams written meanwhile (their live row is at a
 * later version than their copy) are folded again, until few are left; then one short transaction
 * locks the live tables, folds the last of them and swaps the copies in. Writers wait for that
 * swap only, not for the whole log. Streams are read one page at a time in stream order, so memory
 * stays bounded by the page, not the log (plus one small state per SKU, to catch a SKU up from
 * where its fold stopped rather than from its first event).
 */
import type pg from 'pg'
import { retryOnDeadlock, run, transactionOn, type Db, type Query } from '../platform/db/pool.ts'
import {
  analyzeLive, createShadows, dropShadows, inShadow, lockLiveTables, swapShadows, type ShadowSet
} from '../platform/db/shadowTables.ts'
import type { InventoryEvent } from '../inventory/domain/events.ts'
import { evolve as evolveInventory, initialState as initialInventory, inventoryEventTime } from '../inventory/domain/inventory.ts'
import type { OrderEvent } from './domain/events.ts'
import type { EventRow } from '../platform/events/sql.ts'
import { upsertInventory, type InventoryRow } from '../inventory/sql/inventory.ts'
import { upsertOrderViews } from './sql/orders.ts'
import { evolveOrderView, type OrderView } from './orderView.ts'
import * as sql from './sql/rebuild.ts'

const PAGE = 5000
/** Rows written to a shadow table per transaction. */
const BATCH = 1000
/** Where the read models are rebuilt before the swap. */
const SHADOW_SCHEMA = 'projection_rebuild'
/** Any fixed number: the advisory lock that lets one rebuild run at a time. */
const REBUILD_LOCK = 7_300_417_009
/** Catch-up passes before the swap while more than SMALL_DELTA streams were written meanwhile. */
const CATCH_UP_PASSES = 5
const SMALL_DELTA = 200
/** The swap waits this long for its locks (behind a long transaction), then gives way and tries again, this many times. */
const SWAP_LOCK_TIMEOUT_MS = 1000
const SWAP_ATTEMPTS = 30
/** SQLSTATE lock_not_available: lock_timeout passed. */
const LOCK_NOT_AVAILABLE = '55P03'

export interface RebuildCounts { readonly orders: number, readonly inventory: number }

/** Told after each batch written to a shadow table. */
export interface RebuildProgress {
  readonly readModel: 'orders' | 'inventory'
  /** Streams folded into it so far. */
  readonly streams: number
}

export interface RebuildOptions {
  /** Called after each batch (the CLI reports progress); the rebuild goes on when it resolves. */
  readonly onBatch?: (progress: RebuildProgress) => void | Promise<void>
}

/** A read model as a fold of streams: how to fold one, and the live path's statement that writes its rows. */
interface Projection<S, R> {
  readonly readModel: 'orders' | 'inventory'
  readonly prefix: string
  fold (state: S | null, row: EventRow): S
  finish (streamId: string, state: S): R | null
  write (rows: R[]): Query
  /** The streams written since their fold (live row ahead of its copy). */
  ahead (shadowSchema: string): Query
  /** Keep each stream's state, to catch it up from there (long streams: a hot SKU's); otherwise it is folded again whole. */
  readonly keepStates: boolean
}

const ORDERS: Projection<OrderView | null, OrderView> = {
  readModel: 'orders',
  prefix: 'order-',
  fold: (view, row) => evolveOrderView(view, { type: row.type, data: row.data } as OrderEvent,
    { streamVersion: row.stream_version, causationId: (row.metadata as { causationId?: string }).causationId }),
  finish: (_, view) => view,
  write: (views) => upsertOrderViews(views),
  ahead: sql.selectOrdersAhead,
  keepStates: false
}

interface SkuFold { state: ReturnType<typeof initialInventory>, version: number, updatedAt: string }

const INVENTORY: Projection<SkuFold, InventoryRow> = {
  readModel: 'inventory',
  prefix: 'inventory-',
  fold: (sku, row) => {
    const event = { type: row.type, data: row.data } as InventoryEvent
    return { state: evolveInventory(sku?.state ?? initialInventory(), event), version: row.stream_version, updatedAt: inventoryEventTime(event) }
  },
  finish: (streamId, sku) => ({ sku: streamId.slice('inventory-'.length), available: sku.state.available, reserved: sku.state.reserved, shipped: sku.state.shipped, version: sku.version, updated_at: sku.updatedAt }),
  write: (rows) => upsertInventory(rows),
  ahead: sql.selectInventoryAhead,
  keepStates: true
}

/** A projection's fold under way: the states kept, and how many streams it has written. */
class Fold<S, R> {
  readonly projection: Projection<S, R>
  readonly kept = new Map<string, { state: S, version: number }>()
  written = 0
  constructor (projection: Projection<S, R>) {
    this.projection = projection
  }
}

/** Both read models' folds, typed loosely so that one loop runs them (each is consistent in itself). */
type AnyFold = Fold<any, any>

/**
 * Rebuilds both read models. Runs on one connection throughout (the CLI's pool has one), holding
 * an advisory lock so that two rebuilds (the CLI, a start that found views missing) take turns.
 */
export async function rebuildProjections (pool: pg.Pool, options: RebuildOptions = {}): Promise<RebuildCounts> {
  const client = await pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [REBUILD_LOCK])
    try {
      return await rebuildOn(client, options)
    } finally {
      await dropShadows(client, SHADOW_SCHEMA).catch(() => {})
      await client.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK])
    }
  } finally {
    client.release()
  }
}

/** Rebuilds the read models of orders placed before the event store (migration 0012 left their views empty), once. */
export async function rebuildIfIncomplete (pool: pg.Pool): Promise<RebuildCounts | null> {
  const [row] = await run<{ missing: boolean }>(pool, sql.selectViewsMissing())
  return row!.missing ? await rebuildProjections(pool) : null
}

async function rebuildOn (client: pg.PoolClient, options: RebuildOptions): Promise<RebuildCounts> {
  const shadows = await createShadows(client, SHADOW_SCHEMA, [ORDERS.readModel, INVENTORY.readModel])
  const folds: AnyFold[] = [new Fold(ORDERS), new Fold(INVENTORY)]
  for (const fold of folds) await foldAll(client, shadows, fold, options)
  // Streams written while the fold ran: folded again, while many, without holding up any writer.
  for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
    let behind = 0
    for (const fold of folds) behind += await catchUp(client, shadows, fold)
    if (behind <= SMALL_DELTA) break
  }
  await swap(client, shadows, folds)
  await analyzeLive(client, shadows)
  const [counts] = await run<{ orders: number, inventory: number }>(client, sql.countReadModels())
  return { orders: counts!.orders, inventory: counts!.inventory }
}

/** Writes a batch of rows into the projection's shadow table, in a transaction of its own. */
async function writeShadow<S, R> (client: pg.PoolClient, shadows: ShadowSet, fold: Fold<S, R>, rows: R[]): Promise<void> {
  if (rows.length === 0) return
  await transactionOn(client, async (tx) => {
    await inShadow(tx, shadows, async () => await run(tx, fold.projection.write(rows)))
  })
}

/**
 * Folds the rows of `read` (pages in stream then version order, after a position) one stream at a
 * time, from the kept state when there is one, and hands finished rows to `flush` in batches.
 */
async function foldStreams<S, R> (fold: Fold<S, R>, read: (after: { streamId: string, version: number } | null) => Promise<EventRow[]>,
  flush: (rows: R[]) => Promise<void>, pageSize: number): Promise<void> {
  const { projection } = fold
  let after: { streamId: string, version: number } | null = null
  let current = null as { streamId: string, state: S, version: number } | null
  let pending: R[] = []
  const close = (): void => {
    if (current === null) return
    if (projection.keepStates) fold.kept.set(current.streamId, { state: current.state, version: current.version })
    const result = projection.finish(current.streamId, current.state)
    if (result !== null) pending.push(result)
  }
  for (;;) {
    const rows = await read(after)
    for (const row of rows) {
      if (current?.streamId !== row.stream_id) {
        close()
        const kept = fold.kept.get(row.stream_id)
        current = { streamId: row.stream_id, state: projection.fold(kept?.state ?? null, row), version: row.stream_version }
      } else {
        current.state = projection.fold(current.state, row)
        current.version = row.stream_version
      }
    }
    const last = rows.length < pageSize
    if (last) { close(); current = null }
    if (pending.length >= BATCH || last) {
      await flush(pending)
      pending = []
    }
    if (last) return
    const end = rows.at(-1)!
    after = { streamId: end.stream_id, version: end.stream_version }
  }
}

/** Folds every stream of the projection into its shadow table. */
async function foldAll<S, R> (client: pg.PoolClient, shadows: ShadowSet, fold: Fold<S, R>, options: RebuildOptions): Promise<void> {
  await foldStreams(fold, async (after) => await run<EventRow>(client, sql.readStreamsPage(fold.projection.prefix, after, PAGE)), async (rows) => {
    await writeShadow(client, shadows, fold, rows)
    fold.written += rows.length
    await options.onBatch?.({ readModel: fold.projection.readModel, streams: fold.written })
  }, PAGE)
}

/**
 * Folds again the streams written since their fold, from their kept state (only the events after
 * it) or whole, into the shadow table, on `db` (the swap's transaction, or none). Returns how many.
 */
async function catchUp<S, R> (db: pg.PoolClient, shadows: ShadowSet, fold: Fold<S, R>, tx?: Db): Promise<number> {
  const on = tx ?? db
  const behind = (await run<{ stream_id: string }>(on, fold.projection.ahead(shadows.shadowSchema))).map(row => row.stream_id)
  for (let at = 0; at < behind.length; at += BATCH) {
    const ids = behind.slice(at, at + BATCH)
    const events = await run<EventRow>(on, sql.readStreamsAfter(ids, ids.map(id => fold.kept.get(id)?.version ?? 0)))
    await foldStreams(fold, async () => events, async (rows) => {
      if (tx === undefined) {
        await writeShadow(db, shadows, fold, rows)
      } else if (rows.length > 0) {
        await inShadow(tx, shadows, async () => await run(tx, fold.projection.write(rows)))
      }
    }, Infinity)
  }
  return behind.length
}

/**
 * One short transaction: the live tables locked (writers and readers wait from here), the last
 * streams folded, the copies swapped in. A swap that cannot have its locks within
 * SWAP_LOCK_TIMEOUT_MS (a long transaction holds them) or is picked to break a deadlock gives way
 * to the writers, catches up again and tries anew.
 */
async function swap (client: pg.PoolClient, shadows: ShadowSet, folds: readonly AnyFold[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await retryOnDeadlock(async () => await transactionOn(client, async (tx) => {
        await lockLiveTables(tx, shadows, SWAP_LOCK_TIMEOUT_MS)
        for (const fold of folds) await catchUp(client, shadows, fold, tx)
        await swapShadows(tx, shadows)
      }))
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE || attempt >= SWAP_ATTEMPTS) throw error
      for (const fold of folds) await catchUp(client, shadows, fold)
    }
  }
}
