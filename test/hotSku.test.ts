/**
 * Hot SKUs (issue 17, item 3): placements that share SKUs reserve with one guarded statement per
 * SKU per batch at the batch's end (src/inventory/reservations.ts). Many placements of two SKUs
 * with limited stock, from three worker processes of small batches at once while the stock is
 * also adjusted: the stock is never oversold, every order is either placed with its stock reserved
 * or failed OUT_OF_STOCK, and the counts add up on the rows, the streams and the operations. And
 * the guard itself, step by step: a plan made on stock that changed before its write writes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { InventoryChanges } from '../src/inventory/changes.ts'
import { StockReservations } from '../src/inventory/reservations.ts'
import { transaction } from '../src/platform/db/pool.ts'
import { eventually, order, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'
import { isRunning, killAll, spawnMain, type Child } from './helpers/processes.ts'

const HOT: string = 'HOT-A'
const WARM: string = 'HOT-B'
const BULKS = 4
const ORDERS_PER_BULK = 150
const HOT_STOCK = 500
const WARM_STOCK = 450
const TOP_UPS = 10
const TOP_UP = 5

async function adjust (gateway: TestGateway, sku: string, quantity: number): Promise<void> {
  await transaction(gateway.sql, async (tx) => {
    const inventory = new InventoryChanges()
    await inventory.lock(tx, [sku])
    inventory.decide({ type: 'AdjustStock', data: { sku, quantity }, now: new Date() }, { correlationId: 'hotSku.test', causationId: 'top-up' })
    await inventory.commit(tx)
  })
}

/** The HOT-A units order `i` asks for: 1, 2 or 3. */
function hotUnits (i: number): number {
  return 1 + (i % 3)
}

describe('placements of hot SKUs from several workers at once', () => {
  afterAll(async () => { await killAll() })

  it('never oversells: each order is reserved or OUT_OF_STOCK, and rows, streams and operations agree', async () => {
    // Chunks of 8 (BULK_CHUNK_SIZE, the accepting gateway's): each worker's transaction places 8 orders, and they overlap.
    const gateway = await startGateway({ roles: ['gateway'], withoutCatalog: true, env: { BULK_CHUNK_SIZE: '8' } })
    const workers: Child[] = []
    try {
      await adjust(gateway, HOT, HOT_STOCK)
      await adjust(gateway, WARM, WARM_STOCK)
      for (let b = 0; b < BULKS; b++) {
        const input = Array.from({ length: ORDERS_PER_BULK }, (_, i) => order({
          customerEmail: `buyer${b}-${i}@example.com`,
          items: [{ sku: HOT, quantity: hotUnits(i), unitPrice: '10' }, { sku: WARM, quantity: 1, unitPrice: '2' }]
        }))
        const { errors, data } = await gateway.gql(PLACE_ORDERS, { input })
        expect(errors).toBeUndefined()
        expect(data.placeOrders.requestItems.every((item: any) => item.status === 'ACCEPTED')).toBe(true)
      }

      // Three processes of placement workers, small batches, two at a time each: batches that share both SKUs overlap.
      const env = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', WORKER_TOPICS: 'order.place', WORKER_BATCH_SIZE: '8', WORKER_CONCURRENCY: '2' }
      for (let w = 0; w < 3; w++) workers.push(spawnMain(['--role', 'worker'], env))
      // Stock added while the placements run: a guard must see it, and a shortage decided before it must be decided again.
      await eventually(async () => {
        const { rows: [row] } = await gateway.sql.query("SELECT count(*)::int AS n FROM operation WHERE topic = 'order.place' AND status <> 'OPEN'")
        return row.n > 0 ? true : undefined
      }, 60_000, 'the first placements')
      for (let t = 0; t < TOP_UPS; t++) {
        await adjust(gateway, HOT, TOP_UP)
        await new Promise(resolve => setTimeout(resolve, 50))
      }

      const total = BULKS * ORDERS_PER_BULK
      const ops = await eventually(async () => {
        for (const worker of workers) if (!isRunning(worker)) throw new Error(`a worker exited: ${worker.stderr()}`)
        const { rows } = await gateway.sql.query(`SELECT o.id, o.status, o.error_code, o.attempts, o.data FROM operation o
          WHERE o.topic = 'order.place' AND o.status IN ('COMPLETE', 'NOT_RETRIABLY_FAILED', 'RETRIABLY_FAILED')`)
        return rows.length === total && rows.every(row => row.status !== 'RETRIABLY_FAILED') ? rows : undefined
      }, 180_000, 'every placement to finish')

      const placed = ops.filter(op => op.status === 'COMPLETE')
      const failed = ops.filter(op => op.status === 'NOT_RETRIABLY_FAILED')
      expect(placed.length + failed.length).toBe(total)
      expect(failed.map(op => op.error_code)).toEqual(failed.map(() => 'OUT_OF_STOCK'))
      // A failed guard is planned again in the same attempt: no placement failed on the way (a check violation, a deadlock).
      expect(ops.filter(op => op.attempts !== 1)).toEqual([])
      // Stock ran out: some were placed, some refused.
      expect(placed.length).toBeGreaterThan(0)
      expect(failed.length).toBeGreaterThan(0)

      const { rows: orders } = await gateway.sql.query('SELECT id, status FROM orders')
      const statusOf = new Map(orders.map(row => [row.id, row.status]))
      for (const op of placed) expect(statusOf.get(op.id)).toBe('PLACED')
      for (const op of failed) expect(statusOf.get(op.id)).toBe('FAILED')

      const onHand = new Map([[HOT, HOT_STOCK + TOP_UPS * TOP_UP], [WARM, WARM_STOCK]])
      for (const sku of [HOT, WARM]) {
        const units = (op: any): number => op.data.items.filter((item: any) => item.sku === sku).reduce((n: number, item: any) => n + item.quantity, 0)
        const wanted = placed.reduce((n, op) => n + units(op), 0)
        const { rows: [row] } = await gateway.sql.query('SELECT available::int, reserved::int, shipped::int, version FROM inventory WHERE sku = $1', [sku])
        expect(row.available).toBeGreaterThanOrEqual(0)
        expect(row.shipped).toBe(0)
        expect(row.reserved).toBe(wanted)
        expect(row.available + row.reserved).toBe(onHand.get(sku))

        const { rows: events } = await gateway.sql.query(
          'SELECT stream_version, type, data FROM event WHERE stream_id = $1 ORDER BY stream_version', [`inventory-${sku}`])
        expect(events.map(e => e.stream_version)).toEqual(events.map((_, i) => i + 1))
        expect(row.version).toBe(events.length)
        const reservedEvents = events.filter(e => e.type === 'InventoryReserved')
        expect(reservedEvents.reduce((n, e) => n + e.data.quantity, 0)).toBe(wanted)
        // One reservation per placed order, none for a failed one.
        expect(reservedEvents.map(e => e.data.orderId).sort()).toEqual(placed.map(op => op.id).sort())
        expect(events.filter(e => e.type === 'InventoryAdjusted').reduce((n, e) => n + e.data.quantity, 0)).toBe(onHand.get(sku))
      }
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 240_000)

  it('writes nothing when the stock changed under its plan (units taken meanwhile, or a SKU it found short), and is placed when planned again under the lock', async () => {
    const gateway = await startGateway({ roles: ['gateway'], withoutCatalog: true })
    const sku = 'GUARD-1'
    const metadata = { correlationId: 'hotSku.test', causationId: 'guard' }
    const now = new Date()
    const commit = async (plan: StockReservations): Promise<boolean> => await transaction(gateway.sql, async (tx) => await plan.commit(tx))
    const row = async (): Promise<any> => (await gateway.sql.query('SELECT available::int, reserved::int, version FROM inventory WHERE sku = $1', [sku])).rows[0]
    try {
      await adjust(gateway, sku, 5)
      const a = await StockReservations.read(gateway.sql, [sku])
      expect(a.reserve('order-a', [{ sku, quantity: 4 }], now, metadata).ok).toBe(true)
      const b = await StockReservations.read(gateway.sql, [sku])
      expect(b.reserve('order-b', [{ sku, quantity: 3 }], now, metadata).ok).toBe(true)
      expect(await commit(b)).toBe(true)
      // a planned on 5 units; 2 are left: refused, nothing written.
      expect(await commit(a)).toBe(false)
      expect(await row()).toEqual({ available: 2, reserved: 3, version: 2 })

      // c finds the SKU short; stock comes meanwhile: its shortage is not written on a SKU that changed.
      const c = await StockReservations.read(gateway.sql, [sku])
      expect(c.reserve('order-c', [{ sku, quantity: 3 }], now, metadata).ok).toBe(false)
      await adjust(gateway, sku, 10)
      expect(await commit(c)).toBe(false)
      // Planned again under the lock, it is placed.
      expect(await transaction(gateway.sql, async (tx) => {
        const locked = await StockReservations.lock(tx, [sku])
        expect(locked.reserve('order-c', [{ sku, quantity: 3 }], now, metadata).ok).toBe(true)
        return await locked.commit(tx)
      })).toBe(true)
      expect(await row()).toEqual({ available: 9, reserved: 6, version: 4 })
      const { rows: events } = await gateway.sql.query('SELECT stream_version, type, data FROM event WHERE stream_id = $1 ORDER BY stream_version', [`inventory-${sku}`])
      expect(events.map(e => [e.stream_version, e.type, e.data.orderId ?? null])).toEqual([
        [1, 'InventoryAdjusted', null], [2, 'InventoryReserved', 'order-b'], [3, 'InventoryAdjusted', null], [4, 'InventoryReserved', 'order-c']
      ])
    } finally {
      await gateway.stop()
    }
  })
})
