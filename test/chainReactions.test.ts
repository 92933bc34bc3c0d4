/**
 * Reactions in the transaction of the step that makes them due (issue 17, item 3): the invoice is
 * numbered and the order completed there, never as jobs of their own, and each exactly once, also
 * when the step that made them due is retried (lost answers from the payment provider) or its
 * worker is killed inside its transaction and another worker retries it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { isRunning, killAll, spawnMain } from './helpers/processes.ts'

/** Events of each type per order, over the orders of the database. */
async function eventCounts (gateway: TestGateway, type: string): Promise<number[]> {
  const { rows } = await gateway.sql.query(`SELECT o.id, count(e.position)::int AS n FROM orders o
    LEFT JOIN event e ON e.stream_id = 'order-' || o.id AND e.type = $1 GROUP BY o.id`, [type])
  return rows.map(row => row.n)
}

async function completedViews (gateway: TestGateway, count: number): Promise<any[]> {
  return await eventually(async () => {
    const { rows } = await gateway.sql.query("SELECT view FROM orders WHERE status = 'COMPLETED'")
    return rows.length === count ? rows.map(row => row.view) : undefined
  }, 120_000, `${count} orders to complete`)
}

/** Every order once in the invoices: INV- and the order's own digits, no number twice, none missing. */
function expectInvoicesOf (views: readonly any[]): void {
  const invoices = views.map(view => view.invoiceNumber)
  expect(new Set(invoices).size).toBe(views.length)
  expect(invoices.sort()).toEqual(views.map(view => view.number.replace(/^ORD-/, 'INV-')).sort())
}

async function createInvoiceJobs (gateway: TestGateway): Promise<number> {
  const { rows } = await gateway.sql.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'order.step.createInvoice'")
  return rows[0].n
}

describe('reactions in the transaction of the step that makes them due', () => {
  afterAll(async () => { await killAll() })

  it('numbers each invoice and completes each order once while captures are retried after lost answers', async () => {
    // Half of the payment faults come after the charge: the step is retried and the provider answers by its key.
    const gateway = await startGateway({ env: { FAULT_RATES: 'payment=0.5', JOB_RETRY_DELAY_SECONDS: '0' } })
    try {
      const input = Array.from({ length: 30 }, (_, i) => order({ customerEmail: `c${i}@example.com` }))
      const { data } = await gateway.gql(PLACE_ORDERS, { input })
      await waitForBulk(gateway, data.placeOrders.bulkUuid, ['FINISHED_SUCCESSFULLY'], 60_000)
      const views = await completedViews(gateway, 30)
      // The faults did make captures fail and be retried.
      expect(views.some(view => view.steps.find((step: any) => step.name === 'capturePayment').attempts > 1)).toBe(true)
      expectInvoicesOf(views)
      expect(await eventCounts(gateway, 'InvoiceCreated')).toEqual(views.map(() => 1))
      expect(await eventCounts(gateway, 'OrderCompleted')).toEqual(views.map(() => 1))
      expect(await createInvoiceJobs(gateway)).toBe(0)
      for (const view of views) expect(view.steps.find((step: any) => step.name === 'createInvoice')).toMatchObject({ status: 'DONE', attempts: 1 })
    } finally {
      await gateway.stop()
    }
  }, 180_000)

  it('numbers the invoice once when the worker recording the capture is killed inside its transaction and another retries it', async () => {
    const policy = { JOB_EXPIRE_SECONDS: '3', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '0' }
    const gateway = await startGateway({ roles: ['gateway'], env: policy })
    try {
      // The first InvoiceCreated append of the order placed first (made by the capture's transaction) sleeps:
      // the worker is killed there. The other order's capture may commit meanwhile.
      await gateway.sql.query(`CREATE SEQUENCE test_slow_seq;
        CREATE FUNCTION test_slow_first_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.type = 'InvoiceCreated'
            AND NEW.stream_id = (SELECT 'order-' || id FROM orders WHERE customer_email = 'a@example.com')
            AND nextval('test_slow_seq') = 1 THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_slow_first_invoice BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION test_slow_first_invoice();`)
      const workerEnv = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, ...policy, LOG_LEVEL: 'warn' }
      const first = spawnMain(['--role', 'worker'], workerEnv)
      const { data } = await gateway.gql(PLACE_ORDERS, { input: [order({ customerEmail: 'a@example.com' }), order({ customerEmail: 'b@example.com' })] })
      expect(data.placeOrders.errors).toBe(false)
      await eventually(async () => {
        if (!isRunning(first)) throw new Error(`the worker exited: ${first.stderr()}`)
        const { rows: [row] } = await gateway.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")
        return row.n === 1 ? true : undefined
      }, 60_000, 'the worker to block inside the capture transaction')
      first.process.kill('SIGKILL')
      await first.exited
      await gateway.sql.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`)
      // Nothing of that transaction was committed: no invoice yet for the order whose capture was killed.
      const { rows: [blocked] } = await gateway.sql.query(`SELECT count(e.position)::int AS n FROM orders o
        LEFT JOIN event e ON e.stream_id = 'order-' || o.id AND e.type = 'InvoiceCreated' WHERE o.customer_email = 'a@example.com'`)
      expect(blocked.n).toBe(0)

      spawnMain(['--role', 'worker'], workerEnv)
      const views = await completedViews(gateway, 2)
      expectInvoicesOf(views)
      expect(await eventCounts(gateway, 'InvoiceCreated')).toEqual([1, 1])
      expect(await eventCounts(gateway, 'PaymentCaptured')).toEqual([1, 1])
      expect(await eventCounts(gateway, 'OrderCompleted')).toEqual([1, 1])
      const { rows: [charges] } = await gateway.sql.query("SELECT count(*)::int AS n FROM payment_simulator_charge WHERE outcome = 'CAPTURED'")
      expect(charges.n).toBe(2)
      expect(await createInvoiceJobs(gateway)).toBe(0)
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 180_000)
})
