/**
 * The post-order chain end to end (issue 4, "Tests"): orders placed over real HTTP run through
 * every step on real pg-boss workers against real PostgreSQL, with the real adapters writing to
 * the gateway's own temporary DATA_DIR (outbox, labels, ERP export file) and the payment
 * simulator's tables; read back through the orders read model and the event store.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { isRunning, killAll, lines, spawnMain, spawnNode } from './helpers/processes.ts'

const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status errorMessage } }
}`
const CANCEL = 'mutation ($number: String!) { cancelOrder(number: $number) { bulkUuid errors } }'
const FORWARD_STEPS = ['reserveStock', 'capturePayment', 'createInvoice', 'emailInvoice', 'createShipment', 'printShippingLabel', 'updateTracking', 'emailShipping', 'exportToErp']

async function place (gateway: TestGateway, overrides: Record<string, unknown> = {}): Promise<{ bulkUuid: string, number: string }> {
  const { data, errors } = await gateway.gql(PLACE, { input: order(overrides) })
  expect(errors).toBeUndefined()
  expect(data.placeOrder.requestItems[0].status).toBe('ACCEPTED')
  return { bulkUuid: data.placeOrder.bulkUuid, number: data.placeOrder.requestItems[0].orderNumber }
}

async function viewOf (gateway: TestGateway, number: string): Promise<any> {
  const { rows } = await gateway.sql.query('SELECT view FROM orders WHERE order_number = $1', [number])
  return rows[0]?.view
}

/** The order once it is final and no step or compensation is still open. */
async function settled (gateway: TestGateway, number: string, timeoutMs = 90_000): Promise<any> {
  return await eventually(async () => {
    const view = await viewOf(gateway, number)
    const open = view?.steps.some((step: any) => step.status === 'PENDING' || step.status === 'RETRYING')
    return view !== undefined && view.status !== 'PLACED' && view.status !== 'CANCELING' && !open ? view : undefined
  }, timeoutMs, `order ${number} to settle`)
}

function stepStatuses (view: any): Record<string, string> {
  return Object.fromEntries(view.steps.map((step: any) => [step.name, step.status]))
}

async function available (gateway: TestGateway, sku: string): Promise<number> {
  const { rows } = await gateway.sql.query('SELECT available FROM inventory WHERE sku = $1', [sku])
  return rows[0].available
}

/** The outside effects recorded for one order, counted where each outside system keeps them. */
async function effects (gateway: TestGateway, view: any): Promise<Record<string, number>> {
  const outbox = path.join(gateway.dataDir, 'outbox')
  const mails = await Promise.all((await readdir(outbox).catch(() => [] as string[])).filter(n => n.endsWith('.eml'))
    .map(async n => await readFile(path.join(outbox, n), 'utf8')))
  const mine = mails.filter(mail => mail.includes(view.number))
  const erpLines = (await readFile(path.join(gateway.dataDir, 'erp-export.jsonl'), 'utf8').catch(() => ''))
    .split('\n').filter(line => line.includes(`"${view.number}"`))
  // The label the order's ShippingLabelPrinted names, if it is in the spool (every label there is counted by spooledLabels).
  const { rows: printed } = await gateway.sql.query("SELECT data->>'labelRef' AS ref FROM event WHERE stream_id = $1 AND type = 'ShippingLabelPrinted'", [`order-${view.id}`])
  const labelsOfOrder = (await Promise.all(printed.map(async ({ ref }) => (await readFile(ref)).subarray(0, 4).toString() === '%PDF'))).filter(Boolean).length
  const { rows: [charges] } = await gateway.sql.query(
    "SELECT count(*) FILTER (WHERE outcome = 'CAPTURED')::int AS captured, count(*)::int AS calls FROM payment_simulator_charge WHERE order_number = $1", [view.number])
  const { rows: [refunds] } = await gateway.sql.query(
    'SELECT count(*)::int AS n FROM payment_simulator_refund r JOIN payment_simulator_charge c ON c.payment_id = r.payment_id WHERE c.order_number = $1', [view.number])
  return {
    invoiceEmails: mine.filter(mail => mail.includes('Subject: Your invoice')).length,
    shippingEmails: mine.filter(mail => mail.includes('is on its way')).length,
    cancellationEmails: mine.filter(mail => mail.includes('was canceled')).length,
    erpExports: erpLines.length,
    labels: labelsOfOrder,
    charges: charges.captured,
    refunds: refunds.n
  }
}

/** Every label in the spool folder, and every ShippingLabelPrinted recorded: equal when no label was printed twice. */
async function spooledLabels (gateway: TestGateway): Promise<{ files: number, printed: number }> {
  const files = (await readdir(path.join(gateway.dataDir, 'labels')).catch(() => [] as string[])).filter(n => n.endsWith('.pdf')).length
  const { rows } = await gateway.sql.query("SELECT count(*)::int AS n FROM event WHERE type = 'ShippingLabelPrinted'")
  return { files, printed: rows[0].n }
}

describe('the post-order chain', () => {
  let gateway: TestGateway
  beforeAll(async () => { gateway = await startGateway() })
  afterAll(async () => { await gateway.stop() })

  it('takes a placed order through every step to COMPLETED, each outside effect once', async () => {
    const before = await available(gateway, 'DEMO-0001')
    const { bulkUuid, number } = await place(gateway)
    expect((await waitForBulk(gateway, bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    const view = await settled(gateway, number)
    expect(view.status).toBe('COMPLETED')
    expect(view.steps.map((step: any) => [step.name, step.status, step.attempts])).toEqual(FORWARD_STEPS.map(name => [name, 'DONE', 1]))
    expect(view.invoiceNumber).toBe(number.replace('ORD-', 'INV-'))
    expect(view.trackingNumber).toMatch(/^1Z[0-9A-F]{16}$/)
    expect(await effects(gateway, view)).toEqual({ invoiceEmails: 1, shippingEmails: 1, cancellationEmails: 0, erpExports: 1, labels: 1, charges: 1, refunds: 0 })
    // The 2 units of DEMO-0001 it reserved have shipped: no longer available, nor reserved.
    expect(await available(gateway, 'DEMO-0001')).toBe(before - 2)

    const { rows } = await gateway.sql.query('SELECT type FROM event WHERE stream_id = $1 ORDER BY stream_version', [`order-${view.id}`])
    expect(rows.map(row => row.type)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentCaptured', ...rows.slice(3, -1).map(row => row.type), 'OrderCompleted'])
    expect(new Set(rows.map(row => row.type))).toEqual(new Set(['OrderPlaced', 'StockReserved', 'PaymentCaptured', 'InvoiceCreated', 'InvoiceEmailed',
      'ShipmentCreated', 'StockShipped', 'ShippingLabelPrinted', 'TrackingUpdated', 'ShippingEmailSent', 'OrderExportedToErp', 'OrderCompleted']))
  })

  it('cancels an order whose payment is declined, releases its stock and emails the customer', async () => {
    const before = await available(gateway, 'DEMO-0001')
    const { number } = await place(gateway, { paymentToken: 'tok_chargeDeclined' })
    const view = await settled(gateway, number)
    expect(view.status).toBe('CANCELED')
    expect(view.cancelReason).toBe('PAYMENT_DECLINED')
    expect(stepStatuses(view)).toEqual({
      reserveStock: 'DONE',
      capturePayment: 'FAILED',
      createInvoice: 'SKIPPED',
      emailInvoice: 'SKIPPED',
      createShipment: 'SKIPPED',
      printShippingLabel: 'SKIPPED',
      updateTracking: 'SKIPPED',
      emailShipping: 'SKIPPED',
      exportToErp: 'SKIPPED',
      releaseStock: 'DONE',
      emailCancellation: 'DONE'
    })
    expect(view.steps.find((step: any) => step.name === 'capturePayment').lastError).toMatch(/declined/)
    expect(await available(gateway, 'DEMO-0001')).toBe(before)
    expect(await effects(gateway, view)).toEqual({ invoiceEmails: 0, shippingEmails: 0, cancellationEmails: 1, erpExports: 0, labels: 0, charges: 0, refunds: 0 })
  })

  it('retries a payment that fails transiently (tok_unavailable) and charges it once', async () => {
    const { number } = await place(gateway, { paymentToken: 'tok_unavailable' })
    const view = await settled(gateway, number)
    expect(view.status).toBe('COMPLETED')
    const capture = view.steps.find((step: any) => step.name === 'capturePayment')
    expect(capture).toMatchObject({ status: 'DONE', attempts: 3 })
    expect(capture.lastError).toMatch(/unavailable|transient/i)
    const { rows } = await gateway.sql.query('SELECT attempts, outcome FROM payment_simulator_charge WHERE order_number = $1', [number])
    expect(rows).toEqual([{ attempts: 3, outcome: 'CAPTURED' }])
  })

  it('cancels an order on request: the compensations refund what was charged and give back the stock', async () => {
    const before = await available(gateway, 'DEMO-0002')
    // Held at the payment long enough to be canceled after its stock was reserved.
    const { number } = await place(gateway, { paymentToken: 'tok_unavailable' })
    await eventually(async () => (await viewOf(gateway, number))?.steps[0].status === 'DONE' || undefined, 30_000, 'stock reserved')
    const { data, errors } = await gateway.gql(CANCEL, { number })
    expect(errors).toBeUndefined()
    expect((await waitForBulk(gateway, data.cancelOrder.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    const view = await settled(gateway, number)
    expect(view.status).toBe('CANCELED')
    expect(view.cancelReason).toBe('REQUESTED')
    const statuses = stepStatuses(view)
    expect(statuses.releaseStock).toBe('DONE')
    expect(statuses.emailCancellation).toBe('DONE')
    // The capture may have finished before the cancellation or not at all; whatever was charged is refunded.
    const fx = await effects(gateway, view)
    expect(fx.refunds).toBe(fx.charges)
    expect(statuses.capturePayment === 'DONE').toBe(fx.charges === 1)
    expect(fx.cancellationEmails).toBe(1)
    expect(await available(gateway, 'DEMO-0002')).toBe(before)
  })

  it('fails the placement of an unknown SKU with UNKNOWN_SKU and reserves nothing', async () => {
    const before = await available(gateway, 'DEMO-0001')
    const { bulkUuid, number } = await place(gateway, { items: [{ sku: 'DEMO-0001', quantity: 1, unitPrice: '1' }, { sku: 'NOPE-1', quantity: 1, unitPrice: '1' }] })
    await waitForBulk(gateway, bulkUuid)
    const { rows: [operation] } = await gateway.sql.query('SELECT status, error_code, result_message FROM operation WHERE bulk_uuid = $1', [bulkUuid])
    expect(operation).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', error_code: 'UNKNOWN_SKU' })
    expect(operation.result_message).toContain('NOPE-1')
    const view = await viewOf(gateway, number)
    expect(view.status).toBe('FAILED')
    expect(view.failure.code).toBe('UNKNOWN_SKU')
    expect(await available(gateway, 'DEMO-0001')).toBe(before)
  })

  it('rebuilds the read models from the event log exactly as they were written live (npm run projections:rebuild)', async () => {
    const snapshot = async (): Promise<unknown> => {
      const orders = await gateway.sql.query('SELECT id, order_number, operation_id, owner, customer_email, currency, items, shipping_address, total, status, view, version, placed_at, updated_at, created_at FROM orders ORDER BY id')
      const inventory = await gateway.sql.query('SELECT * FROM inventory ORDER BY sku')
      return { orders: orders.rows, inventory: inventory.rows }
    }
    const live = await snapshot() as { orders: unknown[], inventory: unknown[] }
    expect(live.orders.length).toBeGreaterThanOrEqual(5)
    // Break the read models, so that equality proves the rebuild wrote them.
    await gateway.sql.query("UPDATE orders SET status = 'PLACED', view = '{}'")
    await gateway.sql.query('UPDATE inventory SET available = 0')
    const rebuild = spawnNode(['src/cli/rebuild-projections.ts'], { DATABASE_URL: gateway.db.url, LOG_LEVEL: 'info' })
    expect((await rebuild.exited).code).toBe(0)
    expect(rebuild.stderr()).toMatch(/read models rebuilt from the event log: \d+ order\(s\), 100 SKU\(s\)/)
    expect(await snapshot()).toEqual(live)
  })
})

describe('a cancellation while the payment is being captured', () => {
  let gateway: TestGateway
  beforeAll(async () => { gateway = await startGateway({ env: { PAYMENT_LATENCY_MS: '3000' } }) })
  afterAll(async () => { await gateway.stop() })

  it('records the capture that completes after it, and refunds it', async () => {
    const { number } = await place(gateway)
    // The capture's job is active, so the provider is charging (it takes 3 s) when the cancellation commits.
    const view0 = await eventually(async () => await viewOf(gateway, number), 30_000, 'the order placed')
    await eventually(async () => {
      const { rows } = await gateway.sql.query("SELECT 1 FROM pgboss.job WHERE name = 'order.step.capturePayment' AND state = 'active' AND data->>'orderId' = $1", [view0.id])
      return rows.length === 1 || undefined
    }, 30_000, 'the capture under way')
    const { data } = await gateway.gql(CANCEL, { number })
    expect((await waitForBulk(gateway, data.cancelOrder.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    expect((await viewOf(gateway, number)).steps.find((step: any) => step.name === 'capturePayment').status).toBe('SKIPPED')

    // The capture lands after the compensations of the cancellation ran, and adds the refund to them.
    const view = await eventually(async () => {
      const current = await viewOf(gateway, number)
      return stepStatuses(current).refundPayment === 'DONE' ? current : undefined
    }, 30_000, 'the refund of the late capture')
    expect(view.status).toBe('CANCELED')
    expect(stepStatuses(view)).toMatchObject({ capturePayment: 'DONE', releaseStock: 'DONE', refundPayment: 'DONE', emailCancellation: 'DONE' })
    expect(await effects(gateway, view)).toMatchObject({ charges: 1, refunds: 1, cancellationEmails: 1, invoiceEmails: 0, erpExports: 0 })
  })
})

describe('the chain under injected faults', () => {
  let gateway: TestGateway
  beforeAll(async () => {
    // Retried at once: with the default backoff (1 s doubling, with jitter) five faults in a row on one step
    // (0.3^5, about one run in ten over the six orders' steps) take it past a minute, and past this test's wait.
    gateway = await startGateway({ env: { FAULT_RATES: 'payment=0.3,email=0.3,erp=0.3,carrier=0.3,printer=0.3', JOB_RETRY_DELAY_SECONDS: '0' } })
  })
  afterAll(async () => { await gateway.stop() })

  it('retries the failed steps alone and ends COMPLETED with every outside effect exactly once', async () => {
    const numbers = await Promise.all(Array.from({ length: 6 }, async () => (await place(gateway)).number))
    const views = await Promise.all(numbers.map(async number => await settled(gateway, number, 120_000)))
    for (const view of views) {
      expect(view.status).toBe('COMPLETED')
      expect(await effects(gateway, view)).toEqual({ invoiceEmails: 1, shippingEmails: 1, cancellationEmails: 0, erpExports: 1, labels: 1, charges: 1, refunds: 0 })
    }
    expect(await spooledLabels(gateway)).toEqual({ files: 6, printed: 6 })
    // The faults did happen, and were retried step by step.
    const retried = views.flatMap(view => view.steps.filter((step: any) => step.attempts > 1))
    expect(retried.length).toBeGreaterThan(0)
    for (const step of retried) expect(step.lastError).toMatch(/injected/i)
    // JOB_RETRY_DELAY_SECONDS=0: pg-boss's backoff (which counts from at least 1 s) is off.
    const { rows: [queue] } = await gateway.sql.query("SELECT retry_delay, retry_backoff FROM pgboss.queue WHERE name = 'order.step.capturePayment'")
    expect(queue).toEqual({ retry_delay: 0, retry_backoff: false })
  }, 150_000)
})

describe('a worker killed mid-step', () => {
  afterAll(async () => { await killAll() })

  it('loses nothing and does nothing twice: the step is retried by another worker and its effect is not repeated', async () => {
    const policy = { JOB_EXPIRE_SECONDS: '3', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '0' }
    const gateway = await startGateway({ roles: ['gateway'], env: policy })
    try {
      // The first InvoiceEmailed append sleeps inside the step's transaction: the email is written
      // (the outside effect happened) and nothing is committed when the worker is killed.
      await gateway.sql.query(`CREATE SEQUENCE test_slow_seq;
        CREATE FUNCTION test_slow_first_invoice_email() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.type = 'InvoiceEmailed' AND nextval('test_slow_seq') = 1 THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_slow_first_invoice_email BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION test_slow_first_invoice_email();`)
      const workerEnv = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, ...policy, LOG_LEVEL: 'warn' }
      const first = spawnMain(['--role', 'worker'], workerEnv)
      const { number } = await place(gateway)
      await eventually(async () => {
        if (!isRunning(first)) throw new Error(`the worker exited: ${first.stderr()}`)
        const { rows: [row] } = await gateway.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")
        return row.n === 1 ? true : undefined
      }, 60_000, 'the worker to block inside the emailInvoice transaction')
      // The invoice email is out (the effect happened); its InvoiceEmailed is not committed.
      const invoiceMails = async (): Promise<number> => {
        const dir = path.join(gateway.dataDir, 'outbox')
        const mails = await Promise.all((await readdir(dir)).filter(n => n.endsWith('.eml')).map(async n => await readFile(path.join(dir, n), 'utf8')))
        return mails.filter(mail => mail.includes('Subject: Your invoice')).length
      }
      expect(await invoiceMails()).toBe(1)

      first.process.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')
      // As in test/processes.test.ts: end the orphaned backend as the host's TCP reset would.
      await gateway.sql.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`)
      expect((await viewOf(gateway, number)).steps.find((step: any) => step.name === 'emailInvoice').status).toBe('PENDING')

      spawnMain(['--role', 'worker'], workerEnv)
      const view = await settled(gateway, number)
      expect(view.status).toBe('COMPLETED')
      expect(await effects(gateway, view)).toEqual({ invoiceEmails: 1, shippingEmails: 1, cancellationEmails: 0, erpExports: 1, labels: 1, charges: 1, refunds: 0 })
      expect(await spooledLabels(gateway)).toEqual({ files: 1, printed: 1 })
      const { rows } = await gateway.sql.query("SELECT count(*)::int AS n FROM event WHERE stream_id = $1 AND type = 'InvoiceEmailed'", [`order-${view.id}`])
      expect(rows[0].n).toBe(1)
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 120_000)
})

describe('workers of their own per topic (WORKER_TOPICS)', () => {
  afterAll(async () => { await killAll() })

  it('places orders on one worker and runs the chain on another; a pattern matching no topic stops the process with one line', async () => {
    const gateway = await startGateway({ roles: ['gateway'] })
    try {
      const env = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn' }
      const bogus = spawnMain(['--role', 'worker'], { ...env, WORKER_TOPICS: 'order.plaec' })
      expect((await bogus.exited).code).toBe(1)
      expect(lines(bogus.stderr())).toEqual([expect.stringMatching(/WORKER_TOPICS: "order.plaec" matches no topic; the topics are order.place, /)])

      spawnMain(['--role', 'worker'], { ...env, WORKER_TOPICS: 'order.place' })
      const { bulkUuid, number } = await place(gateway)
      expect((await waitForBulk(gateway, bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
      // Placed, and its first step waits for a worker of the chain's topics.
      await new Promise(resolve => setTimeout(resolve, 1500))
      expect(stepStatuses(await viewOf(gateway, number))).toMatchObject({ reserveStock: 'DONE', capturePayment: 'PENDING' })

      spawnMain(['--role', 'worker'], { ...env, WORKER_TOPICS: 'order.step.*,order.compensate.*' })
      expect((await settled(gateway, number)).status).toBe('COMPLETED')
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 90_000)
})
