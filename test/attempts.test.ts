/**
 * Attempts that outlive their expiry (issue 13, item 6): an outside call's time limit is checked
 * against the step's expiry at start-up, a step whose call may take long gets an expiry that fits
 * it and pg-boss's heartbeat, and a call whose attempt pg-boss gave up on is stopped by the job's
 * abort signal instead of making its effect beside the retry. Real pg-boss queues and workers, real
 * PostgreSQL, orders placed over real HTTP.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../src/platform/configError.ts'
import { loadConfig } from '../src/config/config.ts'
import { eventually, order, startGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status } }
}`

/** The ConfigError loadConfig throws for these variables. */
function configError (env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('outside calls and the expiry of their steps', () => {
  it('refuses at start-up a time limit that does not fit in JOB_EXPIRE_SECONDS, naming both settings', () => {
    const print = configError({ PRINT_COMMAND: 'lp -d labels', PRINT_TIMEOUT_MS: '3600000', JOB_EXPIRE_SECONDS: '60' })
    expect(print.message).toBe('PRINT_TIMEOUT_MS (3600000 ms) does not fit in JOB_EXPIRE_SECONDS (60 s), how long one attempt of a chain step may run: ' +
      'with 10 s for the step\'s own reads and writes it needs 3610 s, or an attempt would outlive its expiry and run beside its retry. ' +
      'Raise JOB_EXPIRE_SECONDS to 3610 or more, or lower PRINT_TIMEOUT_MS to 50000 or less, or unset JOB_EXPIRE_SECONDS (each step\'s expiry then fits its call)')
    expect(configError({ ERP_WEBHOOK_URL: 'https://erp.example.com/orders', ERP_WEBHOOK_SECRET: 'erp-secret-0123456789', JOB_EXPIRE_SECONDS: '15' }).message)
      .toMatch(/^ERP_TIMEOUT_MS \(10000 ms\) does not fit in JOB_EXPIRE_SECONDS \(15 s\).* lower ERP_TIMEOUT_MS to 5000 or less/)
    expect(configError({ SMTP_URL: 'smtp://mail.example.com:587', SMTP_TIMEOUT_MS: '60000', JOB_EXPIRE_SECONDS: '60' }).message)
      .toMatch(/^SMTP_TIMEOUT_MS \(60000 ms\) does not fit in JOB_EXPIRE_SECONDS \(60 s\)/)
    // Limits that fit, and the local stand-ins (no time limit of their own), are accepted.
    expect(() => loadConfig({ PRINT_COMMAND: 'lp', PRINT_TIMEOUT_MS: '50000', JOB_EXPIRE_SECONDS: '60' })).not.toThrow()
    expect(() => loadConfig({ PRINT_TIMEOUT_MS: '3600000', JOB_EXPIRE_SECONDS: '3' })).not.toThrow()
  })

  it('gives a step whose call may take longer than 60 s the expiry it needs, and pg-boss\'s heartbeat', async () => {
    const worker = await startGateway({ roles: ['worker'], env: { PRINT_COMMAND: 'cat', PRINT_TIMEOUT_MS: '600000' } })
    try {
      const { rows } = await worker.sql.query(`SELECT name, expire_seconds, heartbeat_seconds FROM pgboss.queue
        WHERE name IN ('order.step.printShippingLabel', 'order.step.exportToErp', 'order.place') ORDER BY name`)
      expect(rows).toEqual([
        { name: 'order.place', expire_seconds: 60, heartbeat_seconds: null },
        { name: 'order.step.exportToErp', expire_seconds: 60, heartbeat_seconds: null },
        { name: 'order.step.printShippingLabel', expire_seconds: 610, heartbeat_seconds: 30 }
      ])
    } finally {
      await worker.stop()
    }
  })
})

describe('an attempt pg-boss gives up on', () => {
  it('stops its outside call: a capture still waiting on the provider when its attempt expires charges nothing', async () => {
    // The provider answers after 6 s; an attempt may run 2 s, and is not retried: its job goes to the dead letter queue.
    const gateway = await startGateway({
      env: { PAYMENT_LATENCY_MS: '6000', JOB_EXPIRE_SECONDS: '2', JOB_RETRY_LIMIT: '0', PGBOSS_MONITOR_INTERVAL_SECONDS: '1' }
    })
    try {
      const placedAt = Date.now()
      const { data } = await gateway.gql(PLACE, { input: order() })
      const number: string = data.placeOrder.requestItems[0].orderNumber
      const step = await eventually(async () => {
        const { rows } = await gateway.sql.query('SELECT view FROM orders WHERE order_number = $1', [number])
        const capture = rows[0]?.view.steps.find((s: any) => s.name === 'capturePayment')
        return capture?.status === 'FAILED' ? capture : undefined
      }, 60_000, 'the capture step to be given up')
      expect(step.lastError).toMatch(/^given up after 1 attempts that did not finish/)
      // Past the moment the provider would have answered the abandoned attempt.
      await new Promise(resolve => setTimeout(resolve, Math.max(0, placedAt + 9000 - Date.now())))
      const { rows: charges } = await gateway.sql.query('SELECT outcome FROM payment_simulator_charge WHERE order_number = $1', [number])
      expect(charges).toEqual([])
    } finally {
      await gateway.stop()
    }
  })
})
