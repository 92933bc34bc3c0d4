/**
 * The projections rebuild without stopping the world (issue 13, item 9): folded in batches into
 * shadow tables while placements and the chain go on, then swapped in by one short transaction.
 * A real gateway and workers, orders placed over real HTTP, the rebuild on its own connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rebuildProjections, type RebuildProgress } from '../src/orders/rebuild.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status } }
}`

let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway() })
afterAll(async () => { await gateway?.stop() })

async function place (): Promise<{ bulkUuid: string, number: string }> {
  const { data, errors } = await gateway.gql(PLACE, { input: order() })
  expect(errors).toBeUndefined()
  return { bulkUuid: data.placeOrder.bulkUuid, number: data.placeOrder.requestItems[0].orderNumber }
}

async function completed (number: string): Promise<any> {
  return await eventually(async () => {
    const { rows } = await gateway.sql.query('SELECT view FROM orders WHERE order_number = $1', [number])
    return rows[0]?.view.status === 'COMPLETED' ? rows[0].view : undefined
  }, 60_000, `order ${number} to complete`)
}

/** The read models' rows, the way a rebuild writes them. */
async function readModels (): Promise<unknown> {
  const orders = await gateway.sql.query('SELECT id, order_number, operation_id, owner, customer_email, currency, items, shipping_address, total, status, view, version, placed_at, updated_at, created_at FROM orders ORDER BY id')
  const inventory = await gateway.sql.query('SELECT * FROM inventory ORDER BY sku')
  return { orders: orders.rows, inventory: inventory.rows }
}

/** What a swap must keep: index names, triggers, foreign keys of both tables. */
async function catalog (): Promise<unknown> {
  const { rows: indexes } = await gateway.sql.query("SELECT tablename, indexname, regexp_replace(indexdef, ' ON \\S+ ', ' ON ') AS def FROM pg_indexes WHERE tablename IN ('orders', 'inventory') ORDER BY indexname")
  const { rows: triggers } = await gateway.sql.query("SELECT tgrelid::regclass::text AS tab, tgname FROM pg_trigger WHERE tgrelid IN ('orders'::regclass, 'inventory'::regclass) AND NOT tgisinternal ORDER BY tgname")
  const { rows: keys } = await gateway.sql.query("SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid IN ('orders'::regclass, 'inventory'::regclass) ORDER BY conname")
  return { indexes, triggers, keys }
}

describe('npm run projections:rebuild', () => {
  it('lets placements and the chain complete while it runs, and swaps in read models that include them', async () => {
    const before = await place()
    await completed(before.number)
    const shape = await catalog()
    // Broken read models, so that what follows proves the rebuild wrote them.
    await gateway.sql.query("UPDATE orders SET view = jsonb_set(view, '{customerEmail}', '\"broken\"')")

    const batches: RebuildProgress[] = []
    let during: { number: string, view: any } | undefined
    const counts = await rebuildProjections(gateway.app.pool, {
      onBatch: async (progress) => {
        batches.push(progress)
        if (during !== undefined) return
        // Mid-rebuild, with the orders folded into the shadow table: an order is placed and goes through every step.
        const { bulkUuid, number } = await place()
        expect((await waitForBulk(gateway, bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
        during = { number, view: await completed(number) }
      }
    })
    expect(during).toBeDefined()
    expect(batches.map(batch => batch.readModel)).toEqual(['orders', 'inventory'])
    expect(counts).toEqual({ orders: 2, inventory: 100 })

    // The order placed during the rebuild is in the swapped-in model at its last version, and nothing is broken any more.
    const { rows: [row] } = await gateway.sql.query('SELECT view, version FROM orders WHERE order_number = $1', [during!.number])
    const { rows: [stream] } = await gateway.sql.query("SELECT max(stream_version) AS version FROM event WHERE stream_id = 'order-' || $1", [row.view.id])
    expect(row.version).toBe(stream.version)
    expect(row.view).toEqual(during!.view)
    const { rows: broken } = await gateway.sql.query("SELECT 1 FROM orders WHERE view->>'customerEmail' = 'broken'")
    expect(broken).toEqual([])
    expect(await catalog()).toEqual(shape)
    const { rows: schemas } = await gateway.sql.query("SELECT 1 FROM pg_namespace WHERE nspname = 'projection_rebuild'")
    expect(schemas).toEqual([])

    // The same as a rebuild with nothing going on, and the swapped-in tables serve the live path (the NOTIFY triggers included).
    const afterBusy = await readModels()
    await rebuildProjections(gateway.app.pool)
    expect(await readModels()).toEqual(afterBusy)
    const after = await place()
    await completed(after.number)
    const ws = gateway.wsClient()
    const progress = ws.iterate({ query: 'subscription ($n: String!) { orderProgress(number: $n) { status } }', variables: { n: after.number } })
    for await (const result of progress) {
      expect(result.data).toEqual({ orderProgress: { status: 'COMPLETED' } })
      break
    }
  }, 180_000)

  it('leaves the live tables as they were when the swap cannot be made', async () => {
    const live = await readModels()
    // A view on a read model: the live table cannot be dropped, so the swap fails and rolls back.
    await gateway.sql.query('CREATE VIEW test_completed_orders AS SELECT id FROM orders WHERE status = \'COMPLETED\'')
    try {
      await expect(rebuildProjections(gateway.app.pool)).rejects.toThrow(/cannot drop table .*orders because other objects depend on it/)
      expect(await readModels()).toEqual(live)
      const { rows: schemas } = await gateway.sql.query("SELECT 1 FROM pg_namespace WHERE nspname = 'projection_rebuild'")
      expect(schemas).toEqual([])
    } finally {
      await gateway.sql.query('DROP VIEW test_completed_orders')
    }
  })
})
