import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/platform/db/migrate.ts'
import { transaction } from '../src/platform/db/pool.ts'
import type { InventoryEvent } from '../src/inventory/domain/events.ts'
import * as inventory from '../src/inventory/domain/inventory.ts'
import type { OrderCommand } from '../src/orders/domain/commands.ts'
import type { OrderEvent } from '../src/orders/domain/events.ts'
import { decide } from '../src/orders/domain/decide.ts'
import { evolve, initialState, ORDER_STATUS, orderStreamId, type OrderState } from '../src/orders/domain/order.ts'
import {
  aggregateStream,
  appendToStream,
  NO_STREAM,
  readAll,
  readStream,
  StreamVersionConflictError,
  type EventMetadata,
  type EventShape
} from '../src/platform/events/store.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'

let db: TestDatabase
let pool: pg.Pool
beforeAll(async () => {
  db = await createTestDatabase()
  pool = testPool(db.url, 6)
  await migrate(pool, createLogger('silent'))
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

const bulkUuid = '0b8e4b1e-6a53-4a55-9d0c-6a1f4f3c2b10'
const metadata: EventMetadata = { correlationId: bulkUuid, causationId: 'c1b1d0c4-2f3e-4e5a-8b7c-9d0e1f2a3b4c' }
const noted = (n: number): EventShape => ({ type: 'Noted', data: { n } })

/** The error a promise rejects with (fails the test when it fulfils). */
async function rejection (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
}

describe('event store: append and read', () => {
  it('appends events in order with their metadata and reads them back', async () => {
    const stream = `test-${randomUUID()}`
    const first = await appendToStream(pool, stream, NO_STREAM, [noted(1), noted(2)], metadata)
    expect(first.nextExpectedVersion).toBe(2)
    const second = await appendToStream(pool, stream, 2, [noted(3)], { correlationId: bulkUuid })
    expect(second.nextExpectedVersion).toBe(3)
    expect(second.lastPosition).toBeGreaterThan(first.lastPosition!)

    const events = await readStream(pool, stream)
    expect(events.map(e => ({ type: e.type, data: e.data, streamId: e.streamId, streamVersion: e.streamVersion, metadata: e.metadata }))).toEqual([
      { type: 'Noted', data: { n: 1 }, streamId: stream, streamVersion: 1, metadata },
      { type: 'Noted', data: { n: 2 }, streamId: stream, streamVersion: 2, metadata },
      { type: 'Noted', data: { n: 3 }, streamId: stream, streamVersion: 3, metadata: { correlationId: bulkUuid } }
    ])
    // Positions grow with the version within a stream; events of one append share the recorded time.
    expect(events.map(e => e.position)).toEqual([...events.map(e => e.position)].sort((a, b) => a - b))
    expect(events[2]!.position).toBe(second.lastPosition)
    expect(events[0]!.recordedAt).toBeInstanceOf(Date)
    expect(events[0]!.recordedAt).toEqual(events[1]!.recordedAt)

    expect((await readStream(pool, stream, 2)).map(e => e.streamVersion)).toEqual([3])
    expect(await readStream(pool, `test-${randomUUID()}`)).toEqual([])
  })

  it('reads all streams by position, a page at a time', async () => {
    const a = `test-${randomUUID()}`
    const b = `test-${randomUUID()}`
    const start = (await readAll(pool, 0, 1_000_000)).at(-1)?.position ?? 0
    await appendToStream(pool, a, NO_STREAM, [noted(1)], metadata)
    await appendToStream(pool, b, NO_STREAM, [noted(2), noted(3)], metadata)
    await appendToStream(pool, a, 1, [noted(4)], metadata)

    const all = await readAll(pool, start, 100)
    expect(all.map(e => [e.streamId, e.streamVersion, (e.data as { n: number }).n])).toEqual([[a, 1, 1], [b, 1, 2], [b, 2, 3], [a, 2, 4]])
    const pages: number[] = []
    for (let after = start; ;) {
      const page = await readAll(pool, after, 3)
      if (page.length === 0) break
      pages.push(...page.map(e => e.position))
      after = page.at(-1)!.position
    }
    expect(pages).toEqual(all.map(e => e.position))
  })
})

describe('event store: expected versions', () => {
  it('refuses an append whose expected version is not the stream\'s, and writes nothing', async () => {
    const stream = `test-${randomUUID()}`
    await appendToStream(pool, stream, NO_STREAM, [noted(1), noted(2), noted(3)], metadata)
    for (const expected of [NO_STREAM, 1, 5]) {
      const error = await rejection(appendToStream(pool, stream, expected, [noted(9)], metadata))
      expect(error).toBeInstanceOf(StreamVersionConflictError)
      expect(error).toMatchObject({ streamId: stream, expectedVersion: expected, actualVersion: 3 })
      expect((error as Error).message).toBe(`stream ${stream} is at version 3, expected ${expected}`)
    }
    // An empty append checks the version too, and appends nothing.
    expect(await rejection(appendToStream(pool, stream, 2, [], metadata))).toBeInstanceOf(StreamVersionConflictError)
    expect(await appendToStream(pool, stream, 3, [], metadata)).toEqual({ nextExpectedVersion: 3, lastPosition: null })
    expect((await readStream(pool, stream)).map(e => e.streamVersion)).toEqual([1, 2, 3])
    await expect(appendToStream(pool, stream, -1, [noted(1)], metadata)).rejects.toThrow(RangeError)
  })

  it('lets exactly one of two transactions appending at the same version commit', async () => {
    const stream = `test-${randomUUID()}`
    await appendToStream(pool, stream, NO_STREAM, [noted(1)], metadata)
    const first = await pool.connect()
    const second = await pool.connect()
    try {
      await first.query('BEGIN')
      await second.query('BEGIN')
      await appendToStream(first, stream, 1, [noted(2), noted(3)], metadata)
      // The second also finds the stream at version 1 (the first has not committed), so it inserts
      // version 2 too, and waits on the first's uncommitted row in the unique index.
      const { rows: [{ pid }] } = await second.query('SELECT pg_backend_pid() AS pid')
      const losing = rejection(appendToStream(second, stream, 1, [noted(20)], metadata))
      await waitUntilBlocked(pid)
      await first.query('COMMIT')
      const error = await losing
      expect(error).toBeInstanceOf(StreamVersionConflictError)
      expect(error).toMatchObject({ streamId: stream, expectedVersion: 1, actualVersion: undefined })
      expect((error as Error).cause).toMatchObject({ code: '23505', constraint: 'event_stream_version_key' })
      await second.query('ROLLBACK')
    } finally {
      first.release()
      second.release()
    }
    expect((await readStream(pool, stream)).map(e => (e.data as { n: number }).n)).toEqual([1, 2, 3])
  })

  it('lets exactly one of two racing writers win, on every stream', async () => {
    const streams = Array.from({ length: 20 }, () => `test-${randomUUID()}`)
    const results = await Promise.allSettled(streams.flatMap(stream => [1, 2].map(async writer =>
      await appendToStream(pool, stream, NO_STREAM, [noted(writer)], metadata))))
    for (let i = 0; i < streams.length; i++) {
      const pair = results.slice(2 * i, 2 * i + 2)
      expect(pair.filter(r => r.status === 'fulfilled')).toHaveLength(1)
      const lost = pair.find(r => r.status === 'rejected')
      expect(lost?.reason).toBeInstanceOf(StreamVersionConflictError)
      expect(await readStream(pool, streams[i]!)).toHaveLength(1)
    }
  })
})

async function waitUntilBlocked (pid: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const { rows } = await pool.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid])
    if (rows[0]?.wait_event_type === 'Lock') return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`backend ${pid} never waited on a lock`)
}

describe('event store: events are immutable', () => {
  it.each([
    ['UPDATE', 'UPDATE event SET data = \'{"n": 0}\' WHERE stream_id = $1'],
    ['DELETE', 'DELETE FROM event WHERE stream_id = $1'],
    ['TRUNCATE', 'TRUNCATE event']
  ])('refuses %s', async (operation, text) => {
    const stream = `test-${randomUUID()}`
    await appendToStream(pool, stream, NO_STREAM, [noted(1)], metadata)
    const error = await rejection(pool.query(text, text.includes('$1') ? [stream] : []))
    expect(error).toMatchObject({ code: '42501', message: `the event store is append-only: ${operation} on event is refused` })
    expect(await readStream(pool, stream)).toHaveLength(1)
  })
})

describe('event store: aggregates', () => {
  const now = new Date('2026-11-26T12:00:00.000Z')

  /** What a step's handler will do: load, decide, append at the loaded version. */
  async function handle (orderId: string, command: OrderCommand): Promise<OrderEvent[]> {
    const { state, version } = await aggregateStream<OrderState, OrderEvent>(pool, orderStreamId(orderId), evolve, initialState)
    const events = decide(command, state)
    await appendToStream(pool, orderStreamId(orderId), version, events, { correlationId: bulkUuid, causationId: randomUUID() })
    return events
  }

  it('folds an order\'s stream with the order aggregate\'s evolve', async () => {
    const orderId = randomUUID()
    const empty = await aggregateStream(pool, orderStreamId(orderId), evolve, initialState)
    expect(empty).toEqual({ state: { status: ORDER_STATUS.NOT_PLACED }, version: NO_STREAM })

    const input = {
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      items: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '19.99' }],
      shippingAddress: { name: 'Ada', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
    }
    await handle(orderId, { type: 'PlaceOrder', data: { orderId, orderNumber: 'ORD-00000001', owner: 'shop-a', input }, now })
    await handle(orderId, { type: 'RecordStockReserved', data: {}, now })
    await handle(orderId, { type: 'RecordPaymentDeclined', data: { reason: 'card declined' }, now })
    // A retried step decides nothing, and nothing is appended.
    expect(await handle(orderId, { type: 'RecordPaymentDeclined', data: { reason: 'card declined' }, now })).toEqual([])

    const { state, version } = await aggregateStream<OrderState, OrderEvent>(pool, orderStreamId(orderId), evolve, initialState)
    expect(version).toBe(4)
    expect(state).toMatchObject({
      status: ORDER_STATUS.CANCELED,
      orderId,
      orderNumber: 'ORD-00000001',
      total: '39.9800',
      lines: input.items,
      done: { reserveStock: now.toISOString() },
      paymentDeclined: 'card declined',
      cancelReason: 'PAYMENT_DECLINED'
    })
    expect((await readStream(pool, orderStreamId(orderId))).map(e => e.type))
      .toEqual(['OrderPlaced', 'StockReserved', 'PaymentFailed', 'OrderCanceled'])
  })

  it('makes a decision taken on a stale state fail instead of overwriting', async () => {
    const orderId = randomUUID()
    const input = {
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      items: [{ sku: 'DEMO-0001', quantity: 1, unitPrice: '1.00' }],
      shippingAddress: { name: 'Ada', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
    }
    await handle(orderId, { type: 'PlaceOrder', data: { orderId, orderNumber: 'ORD-00000002', owner: 'shop-a', input }, now })
    await handle(orderId, { type: 'RecordStockReserved', data: {}, now })
    const stale = await aggregateStream<OrderState, OrderEvent>(pool, orderStreamId(orderId), evolve, initialState)
    await handle(orderId, { type: 'CancelOrder', data: {}, now })
    const events = decide({ type: 'RecordPaymentCaptured', data: { paymentId: 'pay_1' }, now }, stale.state)
    await expect(appendToStream(pool, orderStreamId(orderId), stale.version, events, metadata)).rejects.toThrow(StreamVersionConflictError)
  })

  it('reserves an order\'s SKUs in one transaction: a conflict on one stream appends to none', async () => {
    const skus = [`SKU-${randomUUID()}`, `SKU-${randomUUID()}`]
    for (const sku of skus) {
      const events = inventory.decide({ type: 'AdjustStock', data: { sku, quantity: 5 }, now }, inventory.initialState())
      await appendToStream(pool, inventory.inventoryStreamId(sku), NO_STREAM, events, metadata)
    }
    const load = async () => await Promise.all(skus.map(async sku =>
      await aggregateStream<inventory.InventoryState, InventoryEvent>(pool, inventory.inventoryStreamId(sku), inventory.evolve, inventory.initialState)))
    const before = await load()
    const plan = inventory.planReservation(randomUUID(), skus.map(sku => ({ sku, quantity: 2 })),
      new Map(skus.map((sku, i) => [sku, before[i]!.state])), now)
    if (!plan.ok) throw new Error('expected a reservation')

    // Someone else takes units of the second SKU meanwhile.
    await appendToStream(pool, inventory.inventoryStreamId(skus[1]!), 1,
      inventory.decide({ type: 'AdjustStock', data: { sku: skus[1]!, quantity: -1 }, now }, before[1]!.state), metadata)
    const versions = new Map(skus.map((sku, i) => [sku, before[i]!.version]))
    const error = await rejection(transaction(pool, async (client) => {
      for (const { sku, events } of plan.appends) await appendToStream(client, inventory.inventoryStreamId(sku), versions.get(sku)!, events, metadata)
    }))
    expect(error).toMatchObject({ name: 'StreamVersionConflictError', streamId: inventory.inventoryStreamId(skus[1]!), actualVersion: 2 })

    const after = await load()
    expect(after.map(s => s.state)).toEqual([
      { known: true, available: 5, reserved: 0, shipped: 0 },
      { known: true, available: 4, reserved: 0, shipped: 0 }
    ])
  })
})
