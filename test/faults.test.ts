import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createClient } from 'graphql-ws'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { seedDemoCatalog } from '../src/inventory/seed.ts'
import { startEmbeddedPostgres } from '../src/platform/db/embedded.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool } from './helpers/database.ts'
import { eventually, order, startGateway, waitForBulk } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, spawnMain, type Child } from './helpers/processes.ts'

// Faults with real processes and a real PostgreSQL (issue 13): what each client sees, and that
// nothing accepted is lost or done twice. Workers and gateways are processes of src/main.ts.
afterAll(killAll)

const PLACE_ORDERS = 'mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid requestItems { status } } }'
const BULK_STATUS = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { status progress counts { open complete } } }'

/** Every OrderPlaced append sleeps `seconds`: a bulk then takes long enough to be in progress when the fault comes. */
function slowPlacements (seconds: number): string {
  return `CREATE OR REPLACE FUNCTION test_slow_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$;
    CREATE TRIGGER test_slow_order BEFORE INSERT ON event FOR EACH ROW WHEN (NEW.type = 'OrderPlaced') EXECUTE FUNCTION test_slow_order();`
}

async function ready (url: string, child: Child): Promise<void> {
  await eventually(async () => {
    if (!isRunning(child)) throw new Error(`the process exited: ${child.stderr()}`)
    return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' }).then(() => true, () => undefined)
  }, 60_000, `${url} to answer`)
}

/** The exactly-once facts of a finished run: operations complete, one order per placement, no order without one. */
async function ordersOnce (sql: pg.Pool | pg.Client): Promise<{ complete: number, orders: number, duplicates: number, orphans: number }> {
  const { rows: [row] } = await sql.query(`SELECT
    (SELECT count(*) FROM operation WHERE status = 'COMPLETE' AND topic = 'order.place')::int AS complete,
    (SELECT count(*) FROM orders)::int AS orders,
    (SELECT count(*) FROM (SELECT operation_id FROM orders GROUP BY operation_id HAVING count(*) > 1) d)::int AS duplicates,
    (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM operation op WHERE op.id = o.operation_id))::int AS orphans`)
  return row
}

describe('faults', () => {
  it('a gateway killed under its subscribers: they reconnect to another, get the current state first, then the end', async () => {
    // A job per order (the accepting gateway chunks the bulk), so that progress comes one order at a time.
    const survivor = await startGateway({ roles: ['gateway'], env: { BULK_CHUNK_SIZE: '1' } })
    try {
      await survivor.sql.query(slowPlacements(0.25))
      const env = { DATABASE_URL: survivor.db.url, DATA_DIR: survivor.dataDir, ADMIN_TOKEN: survivor.adminToken, LOG_LEVEL: 'warn', HOST: '127.0.0.1', WORKER_BATCH_SIZE: '1', WORKER_CONCURRENCY: '1' }
      const port = await freePort()
      const doomed = spawnMain(['--role', 'gateway'], { ...env, PORT: String(port) })
      const doomedUrl = `http://127.0.0.1:${port}/graphql`
      await ready(doomedUrl, doomed)
      spawnMain(['--role', 'worker'], env)
      const { data } = await survivor.gql(PLACE_ORDERS, { input: Array.from({ length: 12 }, () => order()) })
      const uuid = data.placeOrders.bulkUuid

      // The subscriber starts on the doomed gateway; after a lost socket it goes to the other.
      const urls = [doomedUrl, survivor.httpUrl].map(url => url.replace(/^http/, 'ws'))
      let connections = 0
      const client = createClient({ url: () => urls[Math.min(connections++, 1)]!, webSocketImpl: WebSocket, retryAttempts: 5, retryWait: async () => {}, connectionParams: { authorization: `Bearer ${survivor.adminToken}` } })
      const states: Array<{ status: string, progress: number, connection: number }> = []
      const done = (async () => {
        for await (const result of client.iterate<{ bulkStatus: { status: string, progress: number } }>({ query: BULK_STATUS, variables: { uuid } })) {
          states.push({ ...result.data!.bulkStatus, connection: connections })
        }
      })()
      await eventually(async () => states.some(state => state.progress > 0) ? true : undefined, 30_000, 'some progress seen through the doomed gateway')
      doomed.process.kill('SIGKILL')
      await done
      await client.dispose()

      const before = states.filter(state => state.connection === 1)
      const after = states.filter(state => state.connection === 2)
      expect(before.length).toBeGreaterThan(0)
      expect(after.length).toBeGreaterThan(0)
      // Nothing goes backwards across the reconnect, and the stream ends on the final state.
      expect(after[0]!.progress).toBeGreaterThanOrEqual(before.at(-1)!.progress)
      expect(states.map(state => state.progress)).toEqual([...states.map(state => state.progress)].sort((a, b) => a - b))
      expect(states.at(-1)).toMatchObject({ status: 'FINISHED_SUCCESSFULLY', progress: 1 })
      expect(await ordersOnce(survivor.sql)).toEqual({ complete: 12, orders: 12, duplicates: 0, orphans: 0 })
    } finally {
      await killAll()
      await survivor.stop()
    }
  }, 120_000)

  it('backends terminated while accepting and completing: every success is stored whole, every failure says so, and the process recovers without a restart', async () => {
    const db = await createTestDatabase()
    const sql = testPool(db.url, 2)
    const token = `terminate-${'t'.repeat(40)}`
    const port = await freePort()
    try {
      const gateway = spawnMain([], {
        DATABASE_URL: db.url,
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'terminate-')),
        ADMIN_TOKEN: token,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        JOB_RETRY_DELAY_SECONDS: '0',
        JOB_RETRY_LIMIT: '20',
        // Three clients as fast as they can go for 6 s: the default 600 a minute would refuse the last request.
        RATE_LIMIT_PER_MINUTE: '0',
        // An attempt whose connection was cut before pg-boss could record its failure stays active until it
        // expires (60 s) and the monitor finds it; a bulk's chunk jobs also hold their owner's share of the
        // workers meanwhile (src/operations/fairness.ts). Look every 5 s rather than 30 s.
        PGBOSS_MONITOR_INTERVAL_SECONDS: '5'
      })
      const endpoint = `http://127.0.0.1:${port}/graphql`
      await ready(endpoint, gateway)
      await seedDemoCatalog(sql)
      const gql = async (query: string, variables: object): Promise<any> => await (await fetch(endpoint, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables })
      })).json()

      const answers: Array<{ uuid?: string, error?: string }> = []
      const until = Date.now() + 6000
      const terminator = (async () => {
        while (Date.now() < until) {
          await sql.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE 'order-ops-gateway%'`)
          await new Promise(resolve => setTimeout(resolve, 150))
        }
      })()
      await Promise.all([0, 1, 2].map(async () => {
        while (Date.now() < until) {
          const { data, errors } = await gql(PLACE_ORDERS, { input: Array.from({ length: 20 }, () => order()) })
          answers.push(errors ? { error: errors[0].message } : { uuid: data.placeOrders.bulkUuid })
        }
      }))
      await terminator
      // Connections lost in the middle of a transaction, or between two of its statements, never end the process.
      expect(isRunning(gateway)).toBe(true)

      const succeeded = answers.filter(answer => answer.uuid !== undefined)
      expect(succeeded.length).toBeGreaterThan(0)
      for (const answer of answers.filter(answer => answer.error !== undefined)) expect(answer.error).not.toBe('')
      // Every success is stored, whole, and carried out once: the pools and workers came back by themselves.
      for (const { uuid } of succeeded) {
        const { rows: [row] } = await sql.query('SELECT count(*)::int AS n FROM operation WHERE bulk_uuid = $1', [uuid])
        expect(row.n).toBe(20)
      }
      const { data } = await gql(PLACE_ORDERS, { input: [order()] })
      await eventually(async () => {
        const { rows: [row] } = await sql.query("SELECT count(*) FILTER (WHERE status IN ('OPEN', 'RETRIABLY_FAILED'))::int AS open FROM operation WHERE topic = 'order.place'")
        return row.open === 0 ? true : undefined
      }, 120_000, 'every placement to finish')
      const { rows: [last] } = await sql.query('SELECT status FROM operation WHERE bulk_uuid = $1', [data.placeOrders.bulkUuid])
      expect(last.status).toBe('COMPLETE')
      const facts = await ordersOnce(sql)
      expect(facts.duplicates).toBe(0)
      expect(facts.orphans).toBe(0)
      expect(facts.orders).toBe(facts.complete)
      expect(facts.complete).toBeGreaterThanOrEqual(succeeded.length * 20 + 1)
    } finally {
      await killAll()
      await sql.end()
      await db.drop()
    }
  }, 180_000)

  it('PostgreSQL restarted: the gateway and its workers reconnect, the listeners come back, the subscriber misses nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-'))
    fs.chmodSync(dataDir, 0o755)
    const pgPort = await freePort()
    let cluster = await startEmbeddedPostgres({ dataDir, port: pgPort, log: createLogger('silent') })
    const token = `restart-${'x'.repeat(40)}`
    const port = await freePort()
    try {
      const setup = new pg.Client({ connectionString: cluster.url })
      await setup.connect()
      await setup.query('CREATE DATABASE restart')
      await setup.end()
      const url = new URL(cluster.url)
      url.pathname = '/restart'
      const env = { DATABASE_URL: url.toString(), DATA_DIR: path.join(dataDir, 'data'), ADMIN_TOKEN: token, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_BATCH_SIZE: '2' }
      const process = spawnMain([], env)
      const endpoint = `http://127.0.0.1:${port}/graphql`
      await ready(endpoint, process)
      const gql = async (query: string, variables: object): Promise<any> => await (await fetch(endpoint, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables })
      })).json()
      const sql = new pg.Pool({ connectionString: url.toString(), max: 1 })
      await seedDemoCatalog(sql)
      await sql.query(slowPlacements(0.2))
      await sql.end()

      const { data } = await gql(PLACE_ORDERS, { input: Array.from({ length: 20 }, () => order()) })
      const uuid = data.placeOrders.bulkUuid
      const client = createClient({ url: endpoint.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 30, retryWait: async () => { await new Promise(resolve => setTimeout(resolve, 500)) }, connectionParams: { authorization: `Bearer ${token}` } })
      const states: Array<{ status: string, progress: number }> = []
      const done = (async () => {
        for await (const result of client.iterate<{ bulkStatus: { status: string, progress: number } }>({ query: BULK_STATUS, variables: { uuid } })) states.push(result.data!.bulkStatus)
      })()
      await eventually(async () => states.some(state => state.progress > 0) ? true : undefined, 30_000, 'progress before the restart')
      await cluster.stop()
      cluster = await startEmbeddedPostgres({ dataDir, port: pgPort, log: createLogger('silent') })
      await done
      await client.dispose()
      expect(states.at(-1)).toMatchObject({ status: 'FINISHED_SUCCESSFULLY', progress: 1 })
      expect(isRunning(process)).toBe(true)

      // And it goes on working, with nothing done twice.
      const again = await gql(PLACE_ORDERS, { input: [order()] })
      expect(again.errors).toBeUndefined()
      const check = new pg.Client({ connectionString: url.toString() })
      await check.connect()
      try {
        await eventually(async () => (await ordersOnce(check)).complete === 21 ? true : undefined, 60_000, 'the order placed after the restart')
        expect(await ordersOnce(check)).toEqual({ complete: 21, orders: 21, duplicates: 0, orphans: 0 })
      } finally {
        await check.end()
      }
    } finally {
      await killAll()
      await cluster.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 180_000)

  it('SIGTERM under load: the worker finishes or leaves what it holds, exits 0, and another finishes the rest, each order once', async () => {
    // Chunks of 10 (the accepting gateway's BULK_CHUNK_SIZE), as the worker's batches.
    const gateway = await startGateway({ roles: ['gateway'], env: { JOB_EXPIRE_SECONDS: '5', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', BULK_CHUNK_SIZE: '10' } })
    try {
      await gateway.sql.query(slowPlacements(0.02))
      const env = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', WORKER_TOPICS: 'order.place', WORKER_BATCH_SIZE: '10', SHUTDOWN_TIMEOUT_MS: '10000' }
      const { data } = await gateway.gql(PLACE_ORDERS, { input: Array.from({ length: 300 }, () => order()) })
      const uuid = data.placeOrders.bulkUuid
      const first = spawnMain(['--role', 'worker'], env)
      await eventually(async () => (await ordersOnce(gateway.sql)).complete >= 20 ? true : undefined, 60_000, 'the worker under way')
      first.process.kill('SIGTERM')
      expect(await first.exited).toEqual({ code: 0, signal: null })
      const { rows: [left] } = await gateway.sql.query("SELECT count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete, count(*) FILTER (WHERE status = 'OPEN')::int AS open FROM operation WHERE bulk_uuid = $1", [uuid])
      expect(left.complete + left.open).toBe(300)
      expect(left.open).toBeGreaterThan(0)

      spawnMain(['--role', 'worker'], env)
      expect((await waitForBulk(gateway, uuid, ['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE'], 120_000)).status).toBe('FINISHED_SUCCESSFULLY')
      expect(await ordersOnce(gateway.sql)).toEqual({ complete: 300, orders: 300, duplicates: 0, orphans: 0 })
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 180_000)

  it('a worker killed in the middle of a chunk: after its jobs expire another takes them over, and every operation is settled once', async () => {
    const gateway = await startGateway({ roles: ['gateway'], env: { JOB_EXPIRE_SECONDS: '5', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '0', BULK_CHUNK_SIZE: '50' } })
    try {
      await gateway.sql.query(slowPlacements(0.02))
      const env = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', WORKER_TOPICS: 'order.place', WORKER_CONCURRENCY: '1' }
      const { data } = await gateway.gql(PLACE_ORDERS, { input: Array.from({ length: 300 }, () => order()) })
      const uuid = data.placeOrders.bulkUuid
      const { rows: [chunks] } = await gateway.sql.query('SELECT count(DISTINCT job_id)::int AS n FROM operation WHERE bulk_uuid = $1', [uuid])
      expect(chunks.n).toBe(6)
      const first = spawnMain(['--role', 'worker'], env)
      // A chunk committed and the next one begun: its operations held by the worker (row locks: a
      // share lock skips them), none of them finished.
      await eventually(async () => {
        const { rows: [row] } = await gateway.sql.query(`SELECT count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete,
          count(*) FILTER (WHERE status = 'OPEN')::int - (SELECT count(*)::int FROM (SELECT 1 FROM operation
            WHERE bulk_uuid = $1 AND status = 'OPEN' FOR SHARE SKIP LOCKED) free) AS running
          FROM operation WHERE bulk_uuid = $1`, [uuid])
        return row.complete >= 50 && row.running > 0 ? true : undefined
      }, 60_000, 'the worker in the middle of a chunk')
      first.process.kill('SIGKILL')
      await first.exited
      const { rows: [left] } = await gateway.sql.query("SELECT count(*) FILTER (WHERE status = 'OPEN')::int AS open FROM operation WHERE bulk_uuid = $1", [uuid])
      expect(left.open).toBeGreaterThan(0)

      spawnMain(['--role', 'worker'], env)
      expect((await waitForBulk(gateway, uuid, ['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE'], 120_000)).status).toBe('FINISHED_SUCCESSFULLY')
      expect(await ordersOnce(gateway.sql)).toEqual({ complete: 300, orders: 300, duplicates: 0, orphans: 0 })
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 180_000)

  it('a job expired while its first attempt still runs is delivered again: the late attempt rolls back and the order is placed once', async () => {
    const gateway = await startGateway({ env: { JOB_EXPIRE_SECONDS: '2', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '0' } })
    try {
      // The first OrderPlaced append outlives the job's expiry (a sequence tells the first from the retry).
      await gateway.sql.query(`CREATE SEQUENCE test_late_seq;
        CREATE FUNCTION test_late_first() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF nextval('test_late_seq') = 1 THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_late_first BEFORE INSERT ON event FOR EACH ROW WHEN (NEW.type = 'OrderPlaced') EXECUTE FUNCTION test_late_first();`)
      const { data } = await gateway.gql(PLACE_ORDERS, { input: [order()] })
      const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid, ['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE'], 60_000)
      expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
      // Let the first attempt wake up and find its job taken: it must not commit a second order.
      await new Promise(resolve => setTimeout(resolve, 6000))
      const { rows: [row] } = await gateway.sql.query(`SELECT (SELECT last_value::int FROM test_late_seq) AS appends, (SELECT attempts FROM operation) AS attempts,
        (SELECT count(*)::int FROM event WHERE type = 'OrderPlaced') AS placed`)
      // Every attempt appended (a later one waits for the first's row lock on the operation, and may
      // expire meanwhile too); one committed, and only it counts in attempts (attempts that ended).
      expect(row.placed).toBe(1)
      expect(row.appends).toBeGreaterThanOrEqual(2)
      expect(row.attempts).toBe(1)
      expect(await ordersOnce(gateway.sql)).toEqual({ complete: 1, orders: 1, duplicates: 0, orphans: 0 })
    } finally {
      await gateway.stop()
    }
  }, 120_000)
})
