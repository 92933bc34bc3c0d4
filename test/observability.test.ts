import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, testPool } from './helpers/database.ts'
import { eventually, order, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, lines, spawnMain } from './helpers/processes.ts'
import { LoopbackReceiver } from './helpers/receiver.ts'

// Issue 16: logs and metrics.

const METRICS_TOKEN = 'metrics-test-token-0123456789abcdef'

/** The value of one series of a Prometheus text scrape, or undefined: `name{a="x",b="y"}` with labels in any order. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(m => [m[1], m[2]]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

describe('GET /metrics after real traffic', () => {
  let gateway: TestGateway
  // Answers the first webhook to a path 500, the next 200.
  const receiver = new LoopbackReceiver((_request, seenBefore) => ({ status: seenBefore === 0 ? 500 : 200 }))
  beforeAll(async () => {
    // Every payment attempt fails: the chain's first step fails and is retried, for the step-failure counter.
    // Webhooks to a receiver on loopback, retried after a second.
    await receiver.start()
    gateway = await startGateway({ env: { METRICS_TOKEN, FAULT_RATES: 'payment=1', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_DELAY_SECONDS: '1' } })
  })
  afterAll(async () => {
    await gateway?.stop()
    await receiver.stop()
  })

  const scrape = async (token: string | null = METRICS_TOKEN): Promise<Response> =>
    await fetch(gateway.httpUrl.replace('/graphql', '/metrics'), { headers: token === null ? {} : { authorization: `Bearer ${token}` } })

  it('is refused without METRICS_TOKEN, and with a wrong one', async () => {
    expect((await scrape(null)).status).toBe(401)
    expect((await scrape('not-the-metrics-token-at-all')).status).toBe(401)
    // The API's admin token is not the metrics token either.
    expect((await scrape(gateway.adminToken)).status).toBe(401)
  })

  it('counts placed orders by topic, their processing time, GraphQL requests, queues, pools and bulks', async () => {
    const unknownSku = order({ items: [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: '1.00' }] })
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order(), order(), order(), order({ currency: 'EURO' }), unknownSku] })
    const uuid = data.placeOrders.bulkUuid
    await waitForBulk(gateway, uuid)

    const response = await scrape()
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    expect(sample(text, 'order_ops_operations_accepted_total', { topic: 'order.place' })).toBe(4)
    expect(sample(text, 'order_ops_operations_rejected_total', { topic: 'order.place' })).toBe(1)
    expect(sample(text, 'order_ops_operations_completed_total', { topic: 'order.place' })).toBe(3)
    expect(sample(text, 'order_ops_operations_failed_total', { topic: 'order.place', code: 'UNKNOWN_SKU', retriable: 'false' })).toBe(1)
    expect(sample(text, 'order_ops_operations_failed_total', { topic: 'order.place', retriable: 'true' })).toBeUndefined()
    // At least one batch, at most one per operation, each observed once.
    const batches = sample(text, 'order_ops_job_batch_duration_seconds_count', { topic: 'order.place' })!
    expect(batches).toBeGreaterThanOrEqual(1)
    expect(batches).toBeLessThanOrEqual(4)
    expect(sample(text, 'order_ops_job_batch_duration_seconds_bucket', { topic: 'order.place', le: '+Inf' })).toBe(batches)
    // Yoga's Prometheus plugin: the mutation, by its type and name; the bulk queries polled.
    expect(sample(text, 'graphql_envelop_phase_execute_count', { operationType: 'mutation' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'graphql_envelop_phase_execute_count', { operationType: 'query' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'order_ops_db_pool_clients', { pool: 'work', state: 'waiting' })).toEqual(expect.any(Number))
    expect(sample(text, 'order_ops_db_pool_clients', { pool: 'work', state: 'total' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'order_ops_queue_jobs', { queue: 'order.place', state: 'queued' })).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'order_ops_bulks_in_progress')).toBe(0)
    expect(sample(text, 'order_ops_subscriptions_active', { transport: 'graphql-ws', field: 'bulkStatus' })).toBeUndefined()
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
  })

  it('counts failed steps of the chain by step', async () => {
    const text = await eventually(async () => {
      const scraped = await (await scrape()).text()
      return sample(scraped, 'order_ops_order_step_failures_total', { step: 'capturePayment' }) !== undefined ? scraped : undefined
    }, 30_000, 'a failed payment to be counted')
    const failures = (sample(text, 'order_ops_order_step_failures_total', { step: 'capturePayment', final: 'false' }) ?? 0) +
      (sample(text, 'order_ops_order_step_failures_total', { step: 'capturePayment', final: 'true' }) ?? 0)
    expect(failures).toBeGreaterThanOrEqual(1)
    // No later step ran: every order waits for its payment.
    expect(sample(text, 'order_ops_order_step_failures_total', { step: 'createShipment' })).toBeUndefined()
  })

  it('counts webhook deliveries by result', async () => {
    const { data } = await gateway.gql('mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String) { placeOrders(input: $input, notifyUrl: $notifyUrl) { bulkUuid } }',
      { input: [order()], notifyUrl: receiver.url('/flaky') })
    expect(data.placeOrders.bulkUuid).toEqual(expect.any(String))
    const text = await eventually(async () => {
      const scraped = await (await scrape()).text()
      return sample(scraped, 'order_ops_webhook_deliveries_total', { result: 'delivered' }) === 1 ? scraped : undefined
    }, 30_000, 'the webhook to be delivered on its second attempt')
    expect(sample(text, 'order_ops_webhook_deliveries_total', { result: 'retrying' })).toBe(1)
    expect(sample(text, 'order_ops_webhook_deliveries_total', { result: 'gave_up' })).toBeUndefined()
    expect(receiver.to('/flaky').map(request => request.status)).toEqual([500, 200])
  })

  it('counts the subscriptions running, by transport and field', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order()] })
    const uuid = data.placeOrders.bulkUuid as string
    const client = gateway.wsClient()
    const updates: unknown[] = []
    // A finished bulk's stream completes after its first state: this subscription ends by itself.
    await new Promise<void>((resolve, reject) => client.subscribe({ query: 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { status } }', variables: { uuid } },
      { next: (value) => updates.push(value), error: reject, complete: resolve }))
    expect(updates.length).toBeGreaterThanOrEqual(1)
    const after = await (await scrape()).text()
    expect(sample(after, 'order_ops_subscriptions_active', { transport: 'graphql-ws', field: 'bulkStatus' })).toBe(0)
  })
})

describe('rate-limit refusals', () => {
  it('are counted by limit: three failed authentications from one address, then refused', async () => {
    const gateway = await startGateway({ env: { AUTH_FAILURES_PER_MINUTE: '3' } })
    try {
      const before = sample(await (await fetch(gateway.httpUrl.replace('/graphql', '/metrics'))).text(), 'order_ops_rate_limit_refusals_total', { limit: 'auth_failures' }) ?? 0
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) {
        const response = await fetch(gateway.httpUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer oog_not-a-token' }, body: '{"query":"{ __typename }"}' })
        statuses.push(response.status)
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429])
      const after = sample(await (await fetch(gateway.httpUrl.replace('/graphql', '/metrics'))).text(), 'order_ops_rate_limit_refusals_total', { limit: 'auth_failures' })
      expect(after! - before).toBe(2)
    } finally {
      await gateway.stop()
    }
  })
})

describe('the log of a real process', () => {
  afterAll(killAll)

  it('writes JSON lines: one per request without the token, one per job settled, errors with their stack', async () => {
    const db = await createTestDatabase()
    try {
      const port = await freePort()
      const token = 'observability-test-admin-token-0123456789'
      const child = spawnMain([], { DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ADMIN_TOKEN: token })
      const post = async (query: string, variables: Record<string, unknown>): Promise<any> => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables })
        })
        return await response.json()
      }
      await eventually(async () => {
        if (!isRunning(child)) throw new Error(`the process exited: ${child.stderr()}`)
        return child.stderr().includes('GraphQL ready') ? true : undefined
      }, 60_000, 'the gateway to start')
      const sql = testPool(db.url, 1)
      try {
        const { seedDemoCatalog } = await import('../src/inventory/seed.ts')
        await seedDemoCatalog(sql)
        const answer = await post('mutation PlaceForLogTest ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid } }', { input: [order()] })
        const uuid = answer.data.placeOrders.bulkUuid as string
        const settled = await eventually(async () => {
          const found = lines(child.stderr()).map(line => JSON.parse(line)).find(entry => entry.msg === 'job settled' && entry.bulkUuid === uuid)
          return found
        }, 30_000, 'a job-settled line')
        expect(settled).toMatchObject({ level: 'info', queue: 'order.place', status: 'COMPLETE', bulkUuid: uuid })
        expect(settled.jobId).toMatch(/^[0-9a-f-]{36}$/)
        expect(settled.operationId).toMatch(/^[0-9a-f-]{36}$/)
        expect(typeof settled.time).toBe('string')

        // Every connection of the process is cut: its pools and pg-boss log what failed, with the stack.
        await sql.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
        const failed = await eventually(async () => lines(child.stderr()).map(line => JSON.parse(line))
          .find(entry => (entry.level === 'error' || entry.level === 'warn') && typeof entry.error?.stack === 'string'), 30_000, 'a line with an error')
        expect(failed.error.stack).toContain('\n    at ')
        expect(failed.error.message).toEqual(expect.any(String))
      } finally {
        await sql.end()
      }
      child.process.kill('SIGTERM')
      expect((await child.exited).code).toBe(0)

      const entries = lines(child.stderr()).map(line => JSON.parse(line))
      const request = entries.find(entry => entry.msg === 'request' && entry.operationName === 'PlaceForLogTest')
      expect(request).toMatchObject({ level: 'info', method: 'POST', path: '/graphql', status: 200, owner: 'admin' })
      expect(request.caller).toMatch(/^token:[0-9a-f-]{36}$/)
      expect(request.durationMs).toBeGreaterThan(0)
      expect(entries.find(entry => entry.msg === 'stopped')).toMatchObject({ level: 'info', role: 'gateway+worker' })
      expect(child.stderr()).not.toContain(token)
    } finally {
      await db.drop()
    }
  }, 120_000)

  it('shows the first admin token at LOG_LEVEL=error, apart from the log, and serves /metrics on HEALTH_PORT', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-first-token-'))
    // As a project folder is: open to the postgres user, when the suite runs as root.
    fs.chmodSync(dataDir, 0o755)
    const [port, healthPort] = [await freePort(), await freePort()]
    // No DATABASE_URL and no ADMIN_TOKEN: the embedded PostgreSQL's first start creates a token.
    const child = spawnMain([], { DATABASE_URL: '', ADMIN_TOKEN: '', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), HEALTH_PORT: String(healthPort), LOG_LEVEL: 'error' })
    try {
      const token = await eventually(async () => {
        if (!isRunning(child)) throw new Error(`npm start exited: ${child.stderr()}`)
        return /^ {4}(oog_\S+)$/m.exec(child.stderr())?.[1]
      }, 90_000, 'the first admin token')
      await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ __typename }' })
        }).catch(() => undefined)
        return response?.status === 200 ? true : undefined
      }, 90_000, 'the gateway to take the token')
      // From 127.0.0.1 without METRICS_TOKEN: served, with the process's own metrics.
      // HEALTH_PORT listens once every role has started, a moment after GraphQL.
      const scraped = await eventually(async () => await fetch(`http://127.0.0.1:${healthPort}/metrics`).catch(() => undefined), 30_000, 'HEALTH_PORT to listen')
      expect(scraped.status).toBe(200)
      const text = await scraped.text()
      expect(sample(text, 'order_ops_db_pool_clients', { pool: 'work', state: 'total' })).toBeGreaterThanOrEqual(1)
      expect(sample(text, 'nodejs_eventloop_lag_seconds')).toEqual(expect.any(Number))
      // Nothing but the token's banner at LOG_LEVEL=error: no JSON line holds it.
      const json = lines(child.stderr()).filter(line => line.startsWith('{'))
      expect(json.filter(line => line.includes(token))).toEqual([])
      expect(json.map(line => JSON.parse(line).level).filter(level => level !== 'error')).toEqual([])
      child.process.kill('SIGTERM')
      expect((await child.exited).code).toBe(0)
    } finally {
      if (isRunning(child)) child.process.kill('SIGKILL')
      await child.exited
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 150_000)
})
