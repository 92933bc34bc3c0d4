/**
 * The read side of issue 4 over the API: adjustStock and inventory, order and orders (the orders
 * read model), an order's events (the event store), and orderProgress over graphql-ws. Real
 * PostgreSQL, real HTTP and WebSocket, real workers (in-process, or in another process where the
 * test must decide when work happens).
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, waitForBulk, type GraphQLResponse, type TestGateway } from './helpers/gateway.ts'
import { killAll, spawnMain, type Child } from './helpers/processes.ts'

const ADJUST_STOCK = `mutation ($input: [StockAdjustmentInput!]!, $description: String) {
  adjustStock(input: $input, description: $description) { bulkUuid errors requestItems { id status errorMessage orderNumber } }
}`
const INVENTORY = 'query ($sku: String!) { inventory(sku: $sku) { sku available reserved shipped updatedAt } }'
const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status errorMessage } }
}`
const ORDER_FIELDS = `number status customerEmail currency total version placedAt updatedAt completedAt canceledAt
  invoiceNumber carrier trackingNumber trackingStatus cancelReason failure { code message }
  lines { sku quantity unitPrice } shippingAddress { name street city postcode country }
  steps { name status attempts lastError completedAt }`
const ORDER = `query ($number: String!) { order(number: $number) { ${ORDER_FIELDS} events { type version position recordedAt data } } }`
const ORDERS = `query ($first: Int, $after: String, $last: Int, $status: OrderStatus) {
  orders(first: $first, after: $after, last: $last, status: $status) {
    edges { cursor node { number status placedAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`
const ORDER_PROGRESS = `subscription ($number: String!) { orderProgress(number: $number) { ${ORDER_FIELDS} } }`
const FORWARD_STEPS = ['reserveStock', 'capturePayment', 'createInvoice', 'emailInvoice', 'createShipment', 'printShippingLabel', 'updateTracking', 'emailShipping', 'exportToErp']

/** A SKU no other test (or the demo catalog) uses. */
function newSku (prefix = 'T'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

function ok<T> (response: GraphQLResponse<T>): T {
  expect(response.errors).toBeUndefined()
  return response.data!
}

async function adjust (gateway: TestGateway, input: Array<{ sku: string, quantity: number }>, token?: string): Promise<any> {
  return ok(await gateway.gql(ADJUST_STOCK, { input }, token)).adjustStock
}

/** Adjusts stock as the admin and waits for the bulk to finish; answers its operations in request order. */
async function stock (gateway: TestGateway, input: Array<{ sku: string, quantity: number }>): Promise<any[]> {
  const response = await adjust(gateway, input)
  const bulk = await waitForBulk(gateway, response.bulkUuid)
  return bulk.operations.edges.map((edge: any) => edge.node)
}

async function inventory (gateway: TestGateway, sku: string, token?: string): Promise<any> {
  return ok(await gateway.gql(INVENTORY, { sku }, token)).inventory
}

async function place (gateway: TestGateway, input: Record<string, unknown>, token?: string): Promise<{ bulkUuid: string, number: string }> {
  const response = ok(await gateway.gql(PLACE, { input }, token)).placeOrder
  expect(response.requestItems[0].status).toBe('ACCEPTED')
  return { bulkUuid: response.bulkUuid, number: response.requestItems[0].orderNumber }
}

async function orderOf (gateway: TestGateway, number: string, token?: string): Promise<any> {
  return ok(await gateway.gql(ORDER, { number }, token)).order
}

/** Subscribes to orderProgress and collects every payload until the server completes the subscription. */
function follow (gateway: TestGateway, number: string, token?: string): { views: any[], first: Promise<void>, done: Promise<void> } {
  const client = gateway.wsClient(token)
  const views: any[] = []
  let markFirst!: () => void
  const first = new Promise<void>(resolve => { markFirst = resolve })
  const done = (async () => {
    for await (const result of client.iterate({ query: ORDER_PROGRESS, variables: { number } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors))
      views.push(result.data!.orderProgress)
      markFirst()
    }
  })()
  return { views, first, done }
}

function doneSteps (view: any): number {
  return view.steps.filter((step: any) => step.status === 'DONE').length
}

describe('stock and orders through the API', () => {
  let gateway: TestGateway
  let alice: string
  let bob: string
  let skuA: string
  let skuB: string
  const lines = (): Array<Record<string, unknown>> => [{ sku: skuA, quantity: 2, unitPrice: '19.99' }, { sku: skuB, quantity: 1, unitPrice: '5.5' }]

  beforeAll(async () => {
    gateway = await startGateway()
    alice = await gateway.createToken('alice', 'INTEGRATION')
    bob = await gateway.createToken('bob', 'CUSTOMER')
    skuA = newSku('A')
    skuB = newSku('B')
    const operations = await stock(gateway, [{ sku: skuA, quantity: 1000 }, { sku: skuB, quantity: 1000 }])
    expect(operations.map(op => op.status)).toEqual(['COMPLETE', 'COMPLETE'])
  })
  afterAll(async () => { await gateway.stop() })

  describe('adjustStock and inventory', () => {
    it('creates a SKU with its first adjustment, and inventory(sku) shows it to any caller', async () => {
      const sku = newSku()
      expect(await inventory(gateway, sku)).toBeNull()
      const response = await adjust(gateway, [{ sku, quantity: 1000 }])
      expect(response).toMatchObject({ errors: false, requestItems: [{ id: 0, status: 'ACCEPTED', errorMessage: null, orderNumber: null }] })
      const bulk = await waitForBulk(gateway, response.bulkUuid)
      expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
      expect(bulk.operations.edges[0].node).toMatchObject({ topic: 'inventory.adjust', status: 'COMPLETE', result: { sku, available: 1000 } })

      const item = await inventory(gateway, sku, bob)
      expect(item).toEqual({ sku, available: 1000, reserved: 0, shipped: 0, updatedAt: expect.any(String) })
      expect(Date.parse(item.updatedAt)).toBeGreaterThan(Date.now() - 60_000)
      expect(await inventory(gateway, newSku(), alice)).toBeNull()
    })

    it('rejects a zero quantity, an empty SKU and a quantity beyond 10^9 with messages naming the field, and enqueues nothing for them', async () => {
      const sku = newSku()
      const response = await adjust(gateway, [
        { sku, quantity: 0 }, { sku: '', quantity: 5 }, { sku: '  ', quantity: 5 }, { sku, quantity: 1_000_000_001 }, { sku, quantity: 7 }
      ])
      expect(response.errors).toBe(true)
      expect(response.requestItems.map((item: any) => item.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'ACCEPTED'])
      expect(response.requestItems[0].errorMessage).toMatch(/^quantity must be .* other than 0, got 0$/)
      expect(response.requestItems[1].errorMessage).toBe('sku must not be empty')
      expect(response.requestItems[2].errorMessage).toBe('sku must not be empty')
      expect(response.requestItems[3].errorMessage).toMatch(/^quantity must be a whole number from -1000000000 to 1000000000 other than 0, got 1000000001$/)

      const { rows } = await gateway.sql.query(`SELECT o.request_index, o.status, o.error_code, o.job_id, (SELECT count(*)::int FROM pgboss.job j WHERE j.id = o.job_id) AS jobs
        FROM operation o WHERE o.bulk_uuid = $1 ORDER BY o.request_index`, [response.bulkUuid])
      expect(rows.slice(0, 4).map(row => [row.status, row.error_code, row.job_id, row.jobs])).toEqual(Array(4).fill(['REJECTED', 'INVALID_INPUT', null, 0]))
      expect(rows[4]).toMatchObject({ status: expect.any(String), jobs: 1 })

      expect((await waitForBulk(gateway, response.bulkUuid)).status).toBe('FINISHED_WITH_FAILURE')
      expect(await inventory(gateway, sku)).toMatchObject({ available: 7, reserved: 0 })
    })

    it('runs adjustments of one SKU in acceptance order, and fails one that would go below zero with NEGATIVE_STOCK, changing nothing', async () => {
      const sku = newSku()
      const operations = await stock(gateway, [{ sku, quantity: 10 }, { sku, quantity: -11 }, { sku, quantity: 5 }, { sku, quantity: -15 }])
      expect(operations.map(op => [op.status, op.errorCode])).toEqual([
        ['COMPLETE', null], ['NOT_RETRIABLY_FAILED', 'NEGATIVE_STOCK'], ['COMPLETE', null], ['COMPLETE', null]
      ])
      expect(operations[1].resultMessage).toMatch(new RegExp(`${sku} has 10 units available`))
      expect(await inventory(gateway, sku)).toMatchObject({ available: 0, reserved: 0 })

      const [beyond] = await stock(gateway, [{ sku, quantity: -1 }])
      expect(beyond).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'NEGATIVE_STOCK' })
      expect(await inventory(gateway, sku)).toMatchObject({ available: 0, reserved: 0 })
      const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM event WHERE stream_id = $1', [`inventory-${sku}`])
      expect(rows[0].n).toBe(3)
    })

    it('refuses adjustStock to a caller who is not an admin with FORBIDDEN, writing nothing', async () => {
      const written = async (): Promise<unknown> => (await gateway.sql.query(`SELECT (SELECT count(*)::int FROM bulk) AS bulks,
        (SELECT count(*)::int FROM operation) AS operations, (SELECT count(*)::int FROM pgboss.job WHERE name = 'inventory.adjust') AS jobs`)).rows[0]
      const before = await written()
      const sku = newSku()
      for (const token of [alice, bob]) {
        const { data, errors } = await gateway.gql(ADJUST_STOCK, { input: [{ sku, quantity: 5 }] }, token)
        expect(data).toBeNull()
        expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      }
      const anonymous = await gateway.gql(ADJUST_STOCK, { input: [{ sku, quantity: 5 }] }, null)
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect(await written()).toEqual(before)
      expect(await inventory(gateway, sku)).toBeNull()
    })
  })

  describe('order and orders', () => {
    it("shows a placed order's lines, total, steps and events to its owner and admins, and null to anyone else", async () => {
      const { bulkUuid, number } = await place(gateway, order({ items: lines() }), alice)
      expect((await waitForBulk(gateway, bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')

      const view = await orderOf(gateway, number, alice)
      expect(view).toMatchObject({
        number,
        customerEmail: 'ada@example.com',
        currency: 'EUR',
        total: '45.4800',
        lines: [{ sku: skuA, quantity: 2, unitPrice: '19.99' }, { sku: skuB, quantity: 1, unitPrice: '5.5' }],
        shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' },
        failure: null,
        canceledAt: null
      })
      expect(['PLACED', 'COMPLETED']).toContain(view.status)
      expect(view.steps.map((step: any) => step.name)).toEqual(FORWARD_STEPS)
      expect(view.steps[0]).toMatchObject({ name: 'reserveStock', status: 'DONE', attempts: 1, lastError: null, completedAt: expect.any(String) })
      expect(view.events.slice(0, 2).map((event: any) => [event.type, event.version])).toEqual([['OrderPlaced', 1], ['StockReserved', 2]])
      expect(view.events[0].data).toMatchObject({ orderNumber: number, owner: 'alice', total: '45.4800', paymentToken: 'tok_visa' })
      expect(view.events[1].position).toBeGreaterThan(view.events[0].position)
      // The events are read after the view: as many as it folded, or more if a step committed meanwhile.
      expect(view.events.length).toBeGreaterThanOrEqual(view.version)
      expect(view.events.map((event: any) => event.version)).toEqual(view.events.map((_: unknown, i: number) => i + 1))

      expect((await orderOf(gateway, number)).number).toBe(number) // admin
      const asBob = await gateway.gql(ORDER, { number }, bob)
      expect(asBob.errors).toBeUndefined()
      expect(asBob.data.order).toBeNull() // exactly as for an order that does not exist
      expect(await orderOf(gateway, 'ORD-99999999', alice)).toBeNull()

      // The stock it reserved, and no more: still reserved, or shipped by now.
      const stock = await inventory(gateway, skuA)
      expect(stock.reserved + stock.shipped).toBeGreaterThanOrEqual(2)
    })

    it('fails the placement of an unknown SKU: the operation NOT_RETRIABLY_FAILED with UNKNOWN_SKU, the order FAILED', async () => {
      const unknown = newSku('NOPE')
      const before = await inventory(gateway, skuA)
      const { bulkUuid, number } = await place(gateway, order({ items: [{ sku: skuA, quantity: 1, unitPrice: '1' }, { sku: unknown, quantity: 1, unitPrice: '1' }] }), alice)
      const bulk = await waitForBulk(gateway, bulkUuid)
      expect(bulk.status).toBe('FINISHED_WITH_FAILURE')
      expect(bulk.operations.edges[0].node).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'UNKNOWN_SKU' })
      expect(bulk.operations.edges[0].node.resultMessage).toContain(unknown)

      const view = await orderOf(gateway, number, alice)
      expect(view).toMatchObject({ status: 'FAILED', failure: { code: 'UNKNOWN_SKU' }, completedAt: null })
      expect(view.failure.message).toContain(unknown)
      expect(view.steps.map((step: any) => step.status)).toEqual(['FAILED', ...Array(FORWARD_STEPS.length - 1).fill('SKIPPED')])
      expect(view.events.map((event: any) => event.type)).toEqual(['OrderPlaced', 'StockReservationFailed'])
      expect((await inventory(gateway, skuA)).available).toBe(before.available)

      // Following a finished order: its state, once, and the subscription completes.
      const progress = follow(gateway, number, alice)
      await progress.done
      expect(progress.views).toHaveLength(1)
      expect(progress.views[0]).toMatchObject({ number, status: 'FAILED', version: 2 })
    })

    it("lists only the caller's orders, newest first, by pages, and filtered by status", async () => {
      const carol = await gateway.createToken('carol', 'INTEGRATION')
      const dave = await gateway.createToken('dave', 'CUSTOMER')
      const placed: string[] = []
      for (const items of [lines(), [{ sku: newSku('NOPE'), quantity: 1, unitPrice: '1' }], lines()]) {
        const { bulkUuid, number } = await place(gateway, order({ items }), carol)
        await waitForBulk(gateway, bulkUuid)
        placed.push(number)
      }
      const { bulkUuid, number: davesOrder } = await place(gateway, order({ items: lines() }), dave)
      await waitForBulk(gateway, bulkUuid)

      const page = async (variables: Record<string, unknown>, token: string): Promise<any> => ok(await gateway.gql(ORDERS, variables, token)).orders
      const first = await page({ first: 2 }, carol)
      expect(first.edges.map((edge: any) => edge.node.number)).toEqual([placed[2], placed[1]])
      expect(first.pageInfo.hasNextPage).toBe(true)
      const second = await page({ first: 2, after: first.pageInfo.endCursor }, carol)
      expect(second.edges.map((edge: any) => edge.node.number)).toEqual([placed[0]])
      expect(second.pageInfo.hasNextPage).toBe(false)
      const placedAts = [...first.edges, ...second.edges].map((edge: any) => Date.parse(edge.node.placedAt))
      expect(placedAts).toEqual([...placedAts].sort((a, b) => b - a))
      expect((await page({ last: 1 }, carol)).edges.map((edge: any) => edge.node.number)).toEqual([placed[0]])

      expect((await page({ first: 100, status: 'FAILED' }, carol)).edges.map((edge: any) => [edge.node.number, edge.node.status])).toEqual([[placed[1], 'FAILED']])
      expect((await page({ first: 100 }, dave)).edges.map((edge: any) => edge.node.number)).toEqual([davesOrder])
      expect((await page({ first: 100, status: 'FAILED' }, dave)).edges).toEqual([])
      const everyone = (await page({ first: 100 }, gateway.adminToken)).edges.map((edge: any) => edge.node.number)
      expect(everyone).toEqual(expect.arrayContaining([...placed, davesOrder]))

      const foreignCursor = await gateway.gql(ORDERS, { first: 1, after: 'YnVsazp7fQ' }, carol)
      expect(foreignCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    })
  })

  describe('orderProgress', () => {
    it("answers an unknown number and another owner's order with NOT_FOUND, as bulkStatus does", async () => {
      const { bulkUuid, number } = await place(gateway, order({ items: lines() }), alice)
      await waitForBulk(gateway, bulkUuid)
      await expect(follow(gateway, number, bob).done).rejects.toThrow(/NOT_FOUND/)
      await expect(follow(gateway, 'ORD-99999999', alice).done).rejects.toThrow(/NOT_FOUND/)
      await expect(follow(gateway, 'x'.repeat(41), alice).done).rejects.toThrow(/40/)
    })

    it('follows a declined payment to CANCELED and completes', async () => {
      const { number } = await place(gateway, order({ items: lines(), paymentToken: 'tok_chargeDeclined' }), alice)
      const progress = follow(gateway, number, alice)
      await progress.done
      const last = progress.views.at(-1)
      expect(last).toMatchObject({ status: 'CANCELED', cancelReason: 'PAYMENT_DECLINED', failure: { code: 'PAYMENT_DECLINED' } })
      expect(last.steps.find((step: any) => step.name === 'capturePayment')).toMatchObject({ status: 'FAILED', lastError: expect.stringMatching(/declined/) })
      // PLACED, then CANCELING while its compensations run: the subscription ends only at CANCELED.
      const statuses = progress.views.map((view: any) => view.status)
      expect(statuses.slice(0, -1).every((status: string) => status === 'PLACED' || status === 'CANCELING')).toBe(true)
      expect(statuses.lastIndexOf('PLACED')).toBeLessThan(statuses.indexOf('CANCELING'))
      const versions = progress.views.map((view: any) => view.version)
      expect(versions.slice(1)).toEqual(versions.slice(1).map((_: number, i: number) => versions[0] + i + 1))
    })
  })
})

describe('orderProgress while a worker in another process does the work', () => {
  let gateway: TestGateway
  // The gateway only: the workers run in other processes, started and stopped when the test says.
  beforeAll(async () => { gateway = await startGateway({ roles: ['gateway'] }) })
  afterAll(async () => {
    await killAll()
    await gateway.stop()
  })

  function worker (env: Record<string, string> = {}): Child {
    return spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', ...env })
  }

  async function stopWorker (child: Child): Promise<void> {
    child.process.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }

  it('yields the current state first, then a state per event with every step, and completes when the order is COMPLETED', async () => {
    const sku = newSku()
    // A worker whose payment provider always fails: the order gets placed and then waits at capturePayment.
    const failing = worker({ FAULT_RATES: 'payment=1' })
    await stock(gateway, [{ sku, quantity: 100 }])
    const { bulkUuid, number } = await place(gateway, order({ items: [{ sku, quantity: 3, unitPrice: '2.50' }] }))
    expect((await waitForBulk(gateway, bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    await eventually(async () => (await orderOf(gateway, number))?.steps[1].status === 'RETRYING' || undefined, 30_000, 'capturePayment to be retried')
    await stopWorker(failing)

    // Nothing runs now: what order(number) answers is the current state.
    const current = await orderOf(gateway, number)
    expect(current).toMatchObject({ status: 'PLACED', total: '7.5000' })
    expect(current.steps.slice(0, 2).map((step: any) => step.status)).toEqual(['DONE', 'RETRYING'])
    expect(current.steps[1].lastError).toMatch(/injected fault/)
    const progress = follow(gateway, number)
    await progress.first
    const { events: _events, ...currentState } = current
    expect(progress.views).toEqual([currentState])

    const healthy = worker()
    await progress.done
    await stopWorker(healthy)

    const views = progress.views
    const last = views.at(-1)
    expect(last.status).toBe('COMPLETED')
    expect(last.completedAt).not.toBeNull()
    expect(last.steps.map((step: any) => [step.name, step.status])).toEqual(FORWARD_STEPS.map(name => [name, 'DONE']))
    expect(last.invoiceNumber).not.toBeNull()
    expect(last.trackingNumber).not.toBeNull()
    // One state per event after the first: versions without a gap, so no step was missed.
    const versions = views.map((view: any) => view.version)
    expect(versions).toEqual(versions.map((_: number, i: number) => current.version + i))
    // Steps only ever get done: each state has at least as many as the one before, and more than the first.
    const done = views.map(doneSteps)
    expect(done).toEqual([...done].sort((a, b) => a - b))
    expect(done[0]).toBe(1)
    expect(done.at(-1)).toBe(FORWARD_STEPS.length)
    expect(views.slice(0, -1).every((view: any) => view.status === 'PLACED')).toBe(true)
    // The last state is the read model's.
    const { events, ...final } = await orderOf(gateway, number)
    expect(final).toEqual(last)
    expect(events).toHaveLength(last.version)
  })

  it('follows an order accepted and not placed yet from its placement on, and ends when its placement is canceled', async () => {
    const sku = newSku()
    const stocking = worker()
    await stock(gateway, [{ sku, quantity: 100 }])
    await stopWorker(stocking)
    const watching = async (n: number): Promise<void> => {
      await eventually(async () => gateway.app.watchedOrders() === n || undefined, 10_000, `${n} watched order(s)`)
    }

    // Accepted, not placed: nothing to show yet, and followed from its first state on.
    const { number } = await place(gateway, order({ items: [{ sku, quantity: 1, unitPrice: '1' }], paymentToken: 'tok_chargeDeclined' }))
    expect(await orderOf(gateway, number)).toBeNull()
    const progress = follow(gateway, number)
    await watching(1)

    // Another whose placement is canceled before any worker took it: no order will come (seen by the
    // feed's periodic read, as no order changes), and the subscription ends without a state.
    const { bulkUuid: canceled, number: neverPlaced } = await place(gateway, order({ items: [{ sku, quantity: 1, unitPrice: '1' }] }))
    const abandoned = follow(gateway, neverPlaced)
    await watching(2)
    const cancel = await gateway.gql('mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { status } }', { uuid: canceled })
    expect(cancel.data.cancelBulk.status).toBe('CANCELED')
    await abandoned.done
    expect(abandoned.views).toEqual([])
    await watching(1)

    const running = worker()
    await progress.done
    await stopWorker(running)
    const versions = progress.views.map((view: any) => view.version)
    expect(versions).toEqual(versions.map((_: number, i: number) => i + 1))
    expect(progress.views[0]).toMatchObject({ number, status: 'PLACED', version: 1 })
    expect(progress.views[0].steps.map((step: any) => step.status)).toEqual(Array(FORWARD_STEPS.length).fill('PENDING'))
    expect(progress.views[1].steps[0]).toMatchObject({ name: 'reserveStock', status: 'DONE' })
    expect(progress.views.at(-1)).toMatchObject({ status: 'CANCELED', cancelReason: 'PAYMENT_DECLINED' })
    await watching(0)
  })
})
