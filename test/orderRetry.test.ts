/**
 * retryOrder end to end: a step that gave up (exportToErp, its only attempt failed by an injected
 * fault with no retries left) leaves its order PLACED; once the ERP is back (a second gateway on
 * the same database, without faults), retryOrder enqueues the step again and the order completes,
 * the ERP export written once. Real PostgreSQL, real pg-boss workers, real adapters on one DATA_DIR.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dueWork, givenUpWork } from '../src/orders/changes.ts'
import type { OrderEvent } from '../src/orders/domain/events.ts'
import { ORDER_ERROR_CODE } from '../src/orders/domain/errors.ts'
import { decide } from '../src/orders/domain/decide.ts'
import { evolve, initialState } from '../src/orders/domain/order.ts'
import { orderViewOf } from '../src/orders/orderView.ts'
import { createTestDatabase, type TestDatabase } from './helpers/database.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status errorMessage } }
}`
const RETRY = 'mutation ($number: String!) { retryOrder(number: $number) { bulkUuid errors requestItems { id status orderNumber errorMessage } } }'

async function place (gateway: TestGateway, overrides: Record<string, unknown> = {}): Promise<string> {
  const { data, errors } = await gateway.gql(PLACE, { input: order(overrides) })
  expect(errors).toBeUndefined()
  expect(data.placeOrder.requestItems[0].status).toBe('ACCEPTED')
  return data.placeOrder.requestItems[0].orderNumber
}

async function viewOf (gateway: TestGateway, number: string): Promise<any> {
  const { rows } = await gateway.sql.query('SELECT view FROM orders WHERE order_number = $1', [number])
  return rows[0]?.view
}

function step (view: any, name: string): any {
  return view.steps.find((s: any) => s.name === name)
}

/** Accepts a retryOrder and answers its one operation once the bulk has finished. */
async function retryOrder (gateway: TestGateway, number: string): Promise<any> {
  const { data, errors } = await gateway.gql(RETRY, { number })
  expect(errors).toBeUndefined()
  expect(data.retryOrder.requestItems).toEqual([{ id: 0, status: 'ACCEPTED', orderNumber: number, errorMessage: null }])
  const bulk = await waitForBulk(gateway, data.retryOrder.bulkUuid)
  return bulk.operations.edges[0].node
}

async function erpLinesOf (dataDir: string, number: string): Promise<number> {
  const file = await readFile(path.join(dataDir, 'erp-export.jsonl'), 'utf8').catch(() => '')
  return file.split('\n').filter(line => line.includes(`"${number}"`)).length
}

describe('StepRetried, without a database', () => {
  const now = new Date('2026-11-26T12:00:00.000Z')
  const at = now.toISOString()
  const placed: OrderEvent = {
    type: 'OrderPlaced',
    data: {
      orderId: 'o1',
      orderNumber: 'ORD-00000042',
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      lines: [{ sku: 'DEMO-0001', quantity: 1, unitPrice: '5' }],
      shippingAddress: { name: 'Ada', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' },
      paymentToken: 'tok_visa',
      owner: 'shop-a',
      total: '5.0000',
      placedAt: at
    }
  }
  const paid: OrderEvent[] = [
    placed,
    { type: 'StockReserved', data: { lines: [{ sku: 'DEMO-0001', quantity: 1 }], reservedAt: at } },
    { type: 'PaymentCaptured', data: { paymentId: 'pay_1', amount: '5.0000', currency: 'EUR', capturedAt: at } }
  ]
  const failure = { step: 'exportToErp', attempt: 1, error: 'erp: down', failedAt: at }
  const gaveUp: OrderEvent = { type: 'StepFailed', data: { ...failure, final: true } }
  const retried: OrderEvent = { type: 'StepRetried', data: { step: 'exportToErp', retriedAt: at } }
  const fold = (events: readonly OrderEvent[]) => events.reduce(evolve, initialState())
  const retry = { type: 'RecordStepRetried', data: { step: 'exportToErp' }, now } as const

  it('records StepRetried for a step not done, nothing for one done, and refuses it on an order that ended', () => {
    expect(decide(retry, fold([...paid, gaveUp]))).toEqual([retried])
    expect(decide(retry, fold([...paid, { type: 'OrderExportedToErp', data: { erpReference: 'ERP-1', exportedAt: at } }]))).toEqual([])
    expect(() => decide(retry, fold([...paid, { type: 'OrderCanceled', data: { reason: 'REQUESTED', canceledAt: at } }])))
      .toThrow(expect.objectContaining({ code: ORDER_ERROR_CODE.ORDER_CANCELED }))
    expect(() => decide({ ...retry, data: { step: 'releaseStock' } }, fold(paid))).toThrow(expect.objectContaining({ code: ORDER_ERROR_CODE.ORDER_NOT_CANCELED }))
    // The aggregate keeps what gave up only until it is retried.
    expect(fold([...paid, gaveUp, retried])).toEqual(fold(paid))
  })

  it('counts a step as given up from its final StepFailed until a StepRetried, and no job is due for it meanwhile', () => {
    const transient: OrderEvent = { type: 'StepFailed', data: { ...failure, final: false } }
    expect(givenUpWork(fold([...paid, transient]))).toEqual([])
    expect(givenUpWork(fold([...paid, transient, gaveUp]))).toEqual(['exportToErp'])
    expect(dueWork(fold([...paid, transient, gaveUp]))).not.toContain('exportToErp')
    expect(givenUpWork(fold([...paid, gaveUp, retried]))).toEqual([])
    expect(dueWork(fold([...paid, gaveUp, retried]))).toContain('exportToErp')
    expect(givenUpWork(fold([...paid, gaveUp, retried, gaveUp]))).toEqual(['exportToErp'])
  })

  it('shows the step PENDING again, its attempts and last error kept', () => {
    const view = orderViewOf([...paid, gaveUp, retried].map((event, i) => ({ event, place: { streamVersion: i + 1 } })))
    expect(view?.steps.find(step => step.name === 'exportToErp')).toEqual({ name: 'exportToErp', status: 'PENDING', attempts: 1, lastError: 'erp: down', completedAt: null })
    expect(view?.updatedAt).toBe(at)
  })
})

describe('retryOrder', () => {
  // One database and one DATA_DIR for both gateways: startGateway drops a database and removes a
  // DATA_DIR only when it made them itself, so these outlive the first gateway.
  let db: TestDatabase
  let dataDir: string
  let gateway: TestGateway | undefined
  // One admin token for both: a gateway started without ADMIN_TOKEN makes up one of its own.
  const adminToken = `test-admin-${randomBytes(24).toString('hex')}`
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ ADMIN_TOKEN: adminToken, DATA_DIR: dataDir, ...extra })
  let givenUp: string

  beforeAll(async () => {
    db = await createTestDatabase()
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gateway-retry-'))
    // Every ERP call fails (before or after its effect, at random) and nothing is retried: exportToErp gives up at once.
    const faulty = await startGateway({ db, env: env({ FAULT_RATES: 'erp=1', JOB_RETRY_LIMIT: '0' }) })
    try {
      givenUp = await place(faulty)
      await eventually(async () => {
        const view = await viewOf(faulty, givenUp)
        const others = view?.steps.filter((s: any) => s.name !== 'exportToErp') ?? []
        return step(view ?? { steps: [] }, 'exportToErp')?.status === 'FAILED' && others.every((s: any) => s.status === 'DONE') ? true : undefined
      }, 60_000, `exportToErp of ${givenUp} to give up`)
    } finally {
      await faulty.stop()
    }
    // FAULT_RATES is read at start: the ERP is "fixed" by a gateway started without it.
    gateway = await startGateway({ db, env: env() })
  })

  afterAll(async () => {
    await gateway?.stop()
    await db?.drop()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('leaves an order PLACED when a step gave up, and nothing runs it again by itself', async () => {
    const view = await viewOf(gateway!, givenUp)
    expect(view.status).toBe('PLACED')
    expect(step(view, 'exportToErp')).toMatchObject({ status: 'FAILED', attempts: 1 })
    expect(step(view, 'exportToErp').lastError).toMatch(/injected/i)
    const { rows } = await gateway!.sql.query("SELECT data FROM event WHERE stream_id = $1 AND type = 'StepFailed'", [`order-${view.id}`])
    expect(rows.map(row => [row.data.step, row.data.final])).toEqual([['exportToErp', true]])
    const { rows: jobs } = await gateway!.sql.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'order.step.exportToErp' AND state IN ('created', 'retry', 'active')")
    expect(jobs[0].n).toBe(0)
  })

  it('enqueues the step that gave up again: the order completes and the ERP export is written once', async () => {
    const operation = await retryOrder(gateway!, givenUp)
    expect(operation).toMatchObject({ topic: 'order.retry', status: 'COMPLETE', errorCode: null, result: { orderNumber: givenUp, retried: ['exportToErp'] } })

    const view = await eventually(async () => {
      const current = await viewOf(gateway!, givenUp)
      return current?.status === 'COMPLETED' ? current : undefined
    }, 60_000, `order ${givenUp} to complete`)
    const erp = step(view, 'exportToErp')
    expect(erp.status).toBe('DONE')
    expect(erp.attempts).toBeGreaterThanOrEqual(2)
    expect(view.steps.every((s: any) => s.status === 'DONE')).toBe(true)
    expect(await erpLinesOf(dataDir, givenUp)).toBe(1)

    const { rows } = await gateway!.sql.query('SELECT type, data FROM event WHERE stream_id = $1 ORDER BY stream_version', [`order-${view.id}`])
    const types = rows.map(row => row.type)
    expect(types.filter(type => type === 'StepRetried')).toHaveLength(1)
    expect(rows.find(row => row.type === 'StepRetried').data).toMatchObject({ step: 'exportToErp' })
    // Given up, tried again, done, then completed in the transaction of that step.
    expect(types.indexOf('StepFailed')).toBeLessThan(types.indexOf('StepRetried'))
    expect(types.indexOf('StepRetried')).toBeLessThan(types.indexOf('OrderExportedToErp'))
    expect(types.at(-1)).toBe('OrderCompleted')
  })

  it('fails a retry of a completed order with ORDER_COMPLETED', async () => {
    const number = await place(gateway!)
    await eventually(async () => (await viewOf(gateway!, number))?.status === 'COMPLETED' || undefined, 60_000, `order ${number} to complete`)
    const operation = await retryOrder(gateway!, number)
    expect(operation).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'ORDER_COMPLETED' })
    expect(operation.resultMessage).toContain(number)
  })

  it('answers an empty list for an order with nothing given up', async () => {
    // Declined: canceled, its compensations done, nothing left open.
    const number = await place(gateway!, { paymentToken: 'tok_chargeDeclined' })
    await eventually(async () => {
      const view = await viewOf(gateway!, number)
      return view?.status === 'CANCELED' && view.steps.every((s: any) => s.status !== 'PENDING' && s.status !== 'RETRYING') ? true : undefined
    }, 60_000, `order ${number} to be canceled and compensated`)
    const operation = await retryOrder(gateway!, number)
    expect(operation).toMatchObject({ status: 'COMPLETE', result: { orderNumber: number, retried: [] } })
    const { rows } = await gateway!.sql.query("SELECT count(*)::int AS n FROM event e JOIN orders o ON e.stream_id = 'order-' || o.id WHERE o.order_number = $1 AND e.type = 'StepRetried'", [number])
    expect(rows[0].n).toBe(0)
  })

  it("rejects a retry of another owner's order as no order, like cancelOrder", async () => {
    const mallory = await gateway!.createToken('mallory')
    const foreign = (await gateway!.gql(RETRY, { number: givenUp }, mallory)).data.retryOrder
    expect(foreign.errors).toBe(true)
    expect(foreign.requestItems[0]).toMatchObject({ status: 'REJECTED', errorMessage: `no order ${givenUp}` })
    const missing = (await gateway!.gql(RETRY, { number: 'ORD-99999999' }, mallory)).data.retryOrder.requestItems[0]
    expect(missing).toMatchObject({ status: 'REJECTED', errorMessage: 'no order ORD-99999999' })
    const malformed = (await gateway!.gql(RETRY, { number: 'nope' })).data.retryOrder.requestItems[0]
    expect(malformed.errorMessage).toContain('must be an order number')
  })
})
