/**
 * Issue 13, items 1, 2, 3 and 10, end to end: real gateways and workers on a real PostgreSQL,
 * driven over real HTTP and graphql-ws. A placement retried after its cause was fixed places the
 * order; shipped stock leaves `reserved`; a step that gave up cancels its order when its timer runs
 * out; orderProgress completes only when the order is really final, and shows a failed compensation.
 * (Retention, items 4 and 5, is in test/retention.test.ts.)
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './helpers/database.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status errorMessage } }
}`
const ADJUST = 'mutation ($input: [StockAdjustmentInput!]!) { adjustStock(input: $input) { bulkUuid errors } }'
const RETRY_BULK = 'mutation ($uuid: ID!) { retryBulk(uuid: $uuid) { status } }'
const CANCEL = 'mutation ($number: String!) { cancelOrder(number: $number) { bulkUuid errors } }'
const RETRY_ORDER = 'mutation ($number: String!) { retryOrder(number: $number) { bulkUuid errors } }'
const INVENTORY = 'query ($sku: String!) { inventory(sku: $sku) { onHand available reserved shipped } }'
const ORDER_FIELDS = 'number status cancelReason failure { code message } steps { name status attempts lastError } events { type }'
const ORDER = `query ($number: String!) { order(number: $number) { ${ORDER_FIELDS} } }`
const PROGRESS = `subscription ($number: String!) { orderProgress(number: $number) { ${ORDER_FIELDS.replace(' events { type }', '')} } }`

async function ok (gateway: TestGateway, query: string, variables: Record<string, unknown>): Promise<any> {
  const { data, errors } = await gateway.gql(query, variables)
  if (errors !== undefined) throw new Error(JSON.stringify(errors))
  return data
}

async function place (gateway: TestGateway, overrides: Record<string, unknown>): Promise<{ bulkUuid: string, number: string }> {
  const { placeOrder } = await ok(gateway, PLACE, { input: order(overrides) })
  expect(placeOrder.requestItems[0].status).toBe('ACCEPTED')
  return { bulkUuid: placeOrder.bulkUuid, number: placeOrder.requestItems[0].orderNumber }
}

async function adjust (gateway: TestGateway, sku: string, quantity: number): Promise<void> {
  const { adjustStock } = await ok(gateway, ADJUST, { input: [{ sku, quantity }] })
  expect((await waitForBulk(gateway, adjustStock.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
}

async function orderOf (gateway: TestGateway, number: string): Promise<any> {
  return (await ok(gateway, ORDER, { number })).order
}

async function orderIn (gateway: TestGateway, number: string, statuses: readonly string[], timeoutMs = 60_000): Promise<any> {
  return await eventually(async () => {
    const current = await orderOf(gateway, number)
    return statuses.includes(current?.status) ? current : undefined
  }, timeoutMs, `order ${number} to be ${statuses.join(' or ')}`)
}

const stepOf = (view: any, name: string): any => view.steps.find((s: any) => s.name === name)
const freshSku = (): string => `REL-${randomUUID().slice(0, 8)}`

/** Collects every orderProgress state until the server completes the subscription. */
function follow (gateway: TestGateway, number: string): { views: any[], done: Promise<void>, completed: () => boolean } {
  const views: any[] = []
  let completed = false
  const done = (async () => {
    for await (const result of gateway.wsClient().iterate({ query: PROGRESS, variables: { number } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors))
      views.push(result.data!.orderProgress)
    }
    completed = true
  })()
  return { views, done, completed: () => completed }
}

describe('items 1 and 2: a retried placement, and stock that ships', () => {
  let gateway: TestGateway
  beforeAll(async () => { gateway = await startGateway() })
  afterAll(async () => { await gateway.stop() })

  it('places the order when retryBulk comes after its cause was fixed, deciding the stock again each time', async () => {
    const sku = freshSku()
    const { bulkUuid, number } = await place(gateway, { items: [{ sku, quantity: 2, unitPrice: '5' }] })
    const first = (await waitForBulk(gateway, bulkUuid)).operations.edges[0].node
    expect(first).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'UNKNOWN_SKU', attempts: 1 })

    // Fixed in part: the retry decides again, against 1 unit now, and fails saying so.
    await adjust(gateway, sku, 1)
    await ok(gateway, RETRY_BULK, { uuid: bulkUuid })
    const second = (await waitForBulk(gateway, bulkUuid, ['FINISHED_WITH_FAILURE'])).operations.edges[0].node
    expect(second).toMatchObject({ errorCode: 'OUT_OF_STOCK', attempts: 2 })
    expect(second.resultMessage).toContain(`${sku}: 2 requested, 1 available`)

    await adjust(gateway, sku, 4)
    await ok(gateway, RETRY_BULK, { uuid: bulkUuid })
    const third = await waitForBulk(gateway, bulkUuid, ['FINISHED_SUCCESSFULLY'])
    expect(third.operations.edges[0].node).toMatchObject({ status: 'COMPLETE', attempts: 3, result: { orderNumber: number } })

    const view = await orderIn(gateway, number, ['COMPLETED'])
    expect(stepOf(view, 'reserveStock')).toMatchObject({ status: 'DONE', attempts: 3 })
    expect(view.events.map((e: any) => e.type).filter((t: string) => /^(StockReservationFailed|PlacementRetried|StockReserved)$/.test(t)))
      .toEqual(['StockReservationFailed', 'PlacementRetried', 'StockReservationFailed', 'PlacementRetried', 'StockReserved'])
    // Shipped: 2 of the 5 adjusted left the warehouse, and nothing stays reserved.
    expect((await ok(gateway, INVENTORY, { sku })).inventory).toEqual({ onHand: 3, available: 3, reserved: 0, shipped: 2 })
  })

  it('turns the reservation into a shipment when the shipment is created', async () => {
    const sku = freshSku()
    await adjust(gateway, sku, 10)
    const { number } = await place(gateway, { items: [{ sku, quantity: 3, unitPrice: '5' }] })
    const view = await orderIn(gateway, number, ['COMPLETED'])
    expect(view.events.map((e: any) => e.type)).toContain('StockShipped')
    const stock = (await ok(gateway, INVENTORY, { sku })).inventory
    expect(stock).toEqual({ onHand: 7, available: 7, reserved: 0, shipped: 3 })
    expect(stock.onHand).toBe(stock.available + stock.reserved)
    expect(stock.onHand + stock.shipped).toBe(10)
    const { rows } = await gateway.sql.query("SELECT type FROM event WHERE stream_id = $1 AND type = 'InventoryShipped'", [`inventory-${sku}`])
    expect(rows).toHaveLength(1)
  })
})

describe('item 3: a payment that gave up cancels its order after ORDER_GIVE_UP_AFTER_SECONDS', () => {
  let gateway: TestGateway
  // No retries: tok_unavailable's first (transient) failure gives up at once; the order waits 2 s.
  beforeAll(async () => { gateway = await startGateway({ env: { JOB_RETRY_LIMIT: '0', ORDER_GIVE_UP_AFTER_SECONDS: '2' } }) })
  afterAll(async () => { await gateway.stop() })

  it('cancels it (STEP_GAVE_UP), releases its stock, emails the customer, seen in order.steps and orderProgress', async () => {
    const sku = freshSku()
    await adjust(gateway, sku, 5)
    const { number } = await place(gateway, { items: [{ sku, quantity: 2, unitPrice: '5' }], paymentToken: 'tok_unavailable' })
    const progress = follow(gateway, number)
    await progress.done

    const given = progress.views.find(v => stepOf(v, 'capturePayment').status === 'FAILED')
    expect(given).toMatchObject({ status: 'PLACED' })
    expect(stepOf(given, 'capturePayment').lastError).toMatch(/payment/)
    const last = progress.views.at(-1)
    expect(last).toMatchObject({ status: 'CANCELED', cancelReason: 'STEP_GAVE_UP', failure: { code: 'STEP_GAVE_UP' } })
    expect(last.failure.message).toMatch(/^capturePayment gave up/)
    expect(Object.fromEntries(last.steps.map((s: any) => [s.name, s.status]))).toMatchObject({
      reserveStock: 'DONE', capturePayment: 'FAILED', createShipment: 'SKIPPED', releaseStock: 'DONE', emailCancellation: 'DONE'
    })
    expect(progress.views.some(v => v.status === 'CANCELING')).toBe(true)

    const view = await orderOf(gateway, number)
    expect(view.events.map((e: any) => e.type)).toEqual(expect.arrayContaining(['OrderGivenUp', 'OrderCanceled', 'CaptureOutcomeAwaited', 'CaptureRuledOut', 'StockReleased']))
    expect((await ok(gateway, INVENTORY, { sku })).inventory).toEqual({ onHand: 5, available: 5, reserved: 0, shipped: 0 })
    const outbox = path.join(gateway.dataDir, 'outbox')
    const mails = await Promise.all((await readdir(outbox)).map(async name => await readFile(path.join(outbox, name), 'utf8')))
    const cancellation = mails.filter(mail => mail.includes(number) && mail.includes('was canceled'))
    expect(cancellation).toHaveLength(1)
    expect(cancellation[0]).toContain('taking the payment')
  })
})

describe('item 10: orderProgress completes only when the order is final, and shows a failed compensation', () => {
  let db: TestDatabase
  let dataDir: string
  let gateway: TestGateway
  let worker: TestGateway | undefined
  const adminToken = `test-admin-${randomBytes(24).toString('hex')}`
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ ADMIN_TOKEN: adminToken, DATA_DIR: dataDir, ...extra })

  beforeAll(async () => {
    db = await createTestDatabase()
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gateway-rel-'))
    // Subscriptions here; the work in a worker whose emails all fail, and are not retried.
    gateway = await startGateway({ db, roles: ['gateway'], env: env() })
    worker = await startGateway({ db, roles: ['worker'], env: env({ FAULT_RATES: 'email=1', JOB_RETRY_LIMIT: '0' }) })
  })
  afterAll(async () => {
    await worker?.stop()
    await gateway?.stop()
    await db?.drop()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('refuses to cancel an order whose stock has shipped: ORDER_SHIPPED (item 2)', async () => {
    // Its emails give up, so it stays PLACED; its shipment is created all the same.
    const { number } = await place(gateway, {})
    const shipped = await eventually(async () => {
      const view = await orderOf(gateway, number)
      return stepOf(view ?? { steps: [] }, 'createShipment')?.status === 'DONE' ? view : undefined
    }, 60_000, `the shipment of ${number}`)
    expect(shipped.status).toBe('PLACED')
    const { cancelOrder } = await ok(gateway, CANCEL, { number })
    const operation = (await waitForBulk(gateway, cancelOrder.bulkUuid)).operations.edges[0].node
    expect(operation).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'ORDER_SHIPPED' })
    expect((await orderOf(gateway, number)).status).toBe('PLACED')
  })

  it('stays CANCELING while the cancellation email has failed, and ends CANCELED once retryOrder sent it', async () => {
    const { number } = await place(gateway, { paymentToken: 'tok_chargeDeclined' })
    const progress = follow(gateway, number)
    // releaseStock and emailCancellation are jobs of their own: either may settle first.
    const failed = await eventually(async () => progress.views.find(v => stepOf(v, 'emailCancellation')?.status === 'FAILED' &&
      stepOf(v, 'releaseStock')?.status === 'DONE'), 60_000, 'the cancellation email to give up, and the stock released')
    expect(failed).toMatchObject({ status: 'CANCELING', cancelReason: 'PAYMENT_DECLINED' })
    expect(stepOf(failed, 'emailCancellation').lastError).toMatch(/injected/)
    // Nothing more comes by itself, and the subscription stays open.
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect(progress.completed()).toBe(false)
    expect(progress.views.every(v => v.status !== 'CANCELED')).toBe(true)

    // The mail server is fixed: a worker without faults, and retryOrder.
    await worker!.stop()
    worker = await startGateway({ db, roles: ['worker'], env: env() })
    const { retryOrder } = await ok(gateway, RETRY_ORDER, { number })
    expect((await waitForBulk(gateway, retryOrder.bulkUuid)).operations.edges[0].node).toMatchObject({ status: 'COMPLETE', result: { retried: ['emailCancellation'] } })
    await progress.done
    const last = progress.views.at(-1)
    expect(last.status).toBe('CANCELED')
    expect(last.steps.filter((s: any) => ['releaseStock', 'emailCancellation'].includes(s.name)).map((s: any) => s.status)).toEqual(['DONE', 'DONE'])
    expect(progress.views.filter(v => v.status === 'CANCELED')).toHaveLength(1)
  })
})
