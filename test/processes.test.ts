import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from './helpers/database.ts'
import { eventually, order, PLACE_ORDER, startGateway, waitForBulk } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, lines, spawnMain, spawnNode } from './helpers/processes.ts'

afterAll(killAll)

describe('the entry point, run as a process', () => {
  it('exits non-zero with one readable line when the database cannot be reached', async () => {
    const child = spawnMain(['--role', 'gateway'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere' })
    const { code } = await child.exited
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    const all = lines(child.stderr())
    const last = all.at(-1) ?? ''
    expect(last).toMatch(/^order-ops-gateway: /)
    expect(last).toContain('cannot connect to PostgreSQL')
    expect(last).toContain('127.0.0.1:1')
    expect(all.filter(line => /^\s+at /.test(line))).toEqual([])
  })

  it('exits non-zero with one line naming the setting when the configuration is invalid', async () => {
    const db = await createTestDatabase()
    try {
      const child = spawnMain(['--role', 'gateway'], { DATABASE_URL: db.url, PORT: 'abc' })
      const { code } = await child.exited
      expect(code).not.toBe(0)
      expect(code).not.toBeNull()
      const all = lines(child.stderr())
      expect(all).toHaveLength(1)
      expect(all[0]).toMatch(/^order-ops-gateway: PORT /)
      expect(all[0]).toContain('"abc"')
    } finally {
      await db.drop()
    }
  })

  it('serves GraphQL as a gateway, and on SIGTERM stops cleanly with exit code 0', async () => {
    const db = await createTestDatabase()
    try {
      const port = await freePort()
      const token = 'processes-test-admin-token-0123456789abcdef'
      const child = spawnMain(['--role', 'gateway'], { DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ADMIN_TOKEN: token })
      const answer = await eventually(async () => {
        if (!isRunning(child)) throw new Error(`the gateway exited: ${child.stderr()}`)
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ __typename }' })
        })
        return await response.json() as { data?: { __typename?: string } }
      }, 30_000, 'the gateway to answer GraphQL')
      expect(answer.data?.__typename).toBe('Query')

      child.process.kill('SIGTERM')
      const { code, signal } = await child.exited
      expect({ code, signal }).toEqual({ code: 0, signal: null })
      const log = lines(child.stderr()).map(line => JSON.parse(line))
      expect(log.some(entry => entry.level === 'info' && entry.msg === 'stopped')).toBe(true)
      // The pinned runtime (package.json engines, the `node` dev dependency) is what actually runs.
      const started = log.find(entry => entry.msg === 'starting order-ops-gateway')
      const major = Number(/^v(\d+)\./.exec(started?.node ?? '')?.[1])
      expect(major).toBeGreaterThanOrEqual(22)
    } finally {
      await db.drop()
    }
  })

  it('loses and duplicates nothing when a worker is killed in the middle of a job', async () => {
    const policy = { JOB_EXPIRE_SECONDS: '3', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', JOB_RETRY_DELAY_SECONDS: '0' }
    const gateway = await startGateway({ roles: ['gateway'], env: policy })
    try {
      // The first OrderPlaced append sleeps inside the worker's job transaction, so that the worker can be
      // killed while it holds one open. A sequence decides which insert is the first: nextval is not
      // rolled back with the transaction that called it, so the retry does not sleep.
      await gateway.sql.query(`CREATE SEQUENCE test_slow_seq;
        CREATE FUNCTION test_slow_first_order() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF nextval('test_slow_seq') = 1 THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_slow_first_order BEFORE INSERT ON event FOR EACH ROW WHEN (NEW.type = 'OrderPlaced') EXECUTE FUNCTION test_slow_first_order();`)

      const workerEnv = { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, ...policy, LOG_LEVEL: 'warn' }
      const first = spawnMain(['--role', 'worker'], workerEnv)
      const { data, errors } = await gateway.gql(PLACE_ORDER, { input: order() })
      expect(errors).toBeUndefined()
      const uuid: string = data.placeOrder.bulkUuid
      const { rows: [{ id: operationId }] } = await gateway.sql.query('SELECT id FROM operation WHERE bulk_uuid = $1', [uuid])

      // Claimed (held by a row lock in the job transaction: a share lock skips it) and asleep in the order
      // insert. pg_stat_activity.query shows the statement the client sent (the INSERT), not the pg_sleep
      // the trigger runs, so the sleeping backend is recognised by its wait event instead.
      await eventually(async () => {
        if (!isRunning(first)) throw new Error(`the worker exited: ${first.stderr()}`)
        const { rows: [row] } = await gateway.sql.query(`SELECT
            (SELECT count(*)::int FROM (SELECT 1 FROM operation WHERE id = $1 FOR SHARE SKIP LOCKED) free) AS free,
            (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep') AS sleeping`,
        [operationId])
        return row.free === 0 && row.sleeping === 1 ? true : undefined
      }, 30_000, 'the worker to claim the operation and block inside its transaction')

      first.process.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')
      // A backend notices its client is gone only when it next talks to it, which a backend asleep in
      // pg_sleep does not do for 30 s (pg-boss's transaction_timeout would end it sooner, at
      // expireInSeconds + 5 s). On a real crash the host's TCP stack resets the connection; here the
      // client died on the same host, so end the backend as that reset would, and roll its transaction back.
      const { rows: terminated } = await gateway.sql.query(`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`)
      expect(terminated).toEqual([{ done: true }])

      // The killed attempt rolled back and left no trace: an operation is written when its attempt ends.
      const { rows: [before] } = await gateway.sql.query(`SELECT op.status, op.attempts, op.started_at,
          (SELECT count(*)::int FROM orders o WHERE o.operation_id = op.id) AS orders
        FROM operation op WHERE op.id = $1`, [operationId])
      expect(before).toEqual({ status: 'OPEN', attempts: 0, started_at: null, orders: 0 })

      // pg-boss expires the dead worker's job after JOB_EXPIRE_SECONDS and retries it on the next worker.
      spawnMain(['--role', 'worker'], workerEnv)
      const bulk = await waitForBulk(gateway, uuid, ['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE'], 40_000)
      expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')

      const { rows: [after] } = await gateway.sql.query(`SELECT op.status, op.attempts, op.result->>'orderNumber' AS "orderNumber",
          (SELECT count(*)::int FROM orders o WHERE o.operation_id = op.id) AS orders,
          (SELECT count(*)::int FROM orders) AS "allOrders",
          (SELECT last_value::int FROM test_slow_seq) AS inserts
        FROM operation op WHERE op.id = $1`, [operationId])
      // Two attempts inserted; the one that ended counts.
      expect(after).toMatchObject({ status: 'COMPLETE', attempts: 1, orders: 1, allOrders: 1, inserts: 2 })
      expect(after.orderNumber).toMatch(/^ORD-\d{8}$/)
    } finally {
      await killAll()
      await gateway.stop()
    }
  }, 120_000)

  it('migrates with `npm run migrate` (the script it runs), and a second run finds nothing to do', async () => {
    const db = await createTestDatabase()
    try {
      const first = spawnNode(['src/cli/migrate.ts'], { DATABASE_URL: db.url })
      expect((await first.exited).code).toBe(0)
      expect(first.stderr()).toMatch(/applied \d+ migration\(s\)/)
      const second = spawnNode(['src/cli/migrate.ts'], { DATABASE_URL: db.url })
      expect((await second.exited).code).toBe(0)
      expect(second.stderr()).toContain('database is up to date')
    } finally {
      await db.drop()
    }
  })

  it('serves GraphiQL on GET /graphql, and the README\'s watch client prints a finished bulk and exits', async () => {
    const gateway = await startGateway()
    try {
      const page = await fetch(gateway.httpUrl, { headers: { accept: 'text/html' } })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('GraphiQL')

      const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
      const uuid = data.placeOrder.bulkUuid
      await waitForBulk(gateway, uuid)
      const watch = spawnNode(['src/cli/client.ts', '--json', 'watch', uuid, '--url', gateway.httpUrl], { GATEWAY_TOKEN: gateway.adminToken })
      expect((await watch.exited).code).toBe(0)
      const printed = lines(watch.stdout()).map(line => JSON.parse(line))
      expect(printed).toEqual([expect.objectContaining({ uuid, status: 'FINISHED_SUCCESSFULLY', progress: 1 })])
    } finally {
      await gateway.stop()
    }
  })

  it('runs `npm start` on the embedded default with the demo catalog, and takes the README\'s example order to COMPLETED', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-start-'))
    // As a project folder is: open to the postgres user, when the suite runs as root.
    fs.chmodSync(dataDir, 0o755)
    const port = await freePort()
    const token = 'processes-test-admin-token-embedded-0123456789'
    // No DATABASE_URL: the embedded PostgreSQL under DATA_DIR, seeded with DEMO-0001 … DEMO-0100.
    const child = spawnMain([], { DATABASE_URL: '', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ADMIN_TOKEN: token })
    const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<any> => {
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables })
      })
      return await response.json()
    }
    try {
      await eventually(async () => {
        if (!isRunning(child)) throw new Error(`npm start exited: ${child.stderr()}`)
        return (await gql('{ __typename }')).data?.__typename
      }, 90_000, 'npm start to answer GraphQL')
      expect(child.stderr()).toMatch(/demo catalog seeded: 100 SKU\(s\), DEMO-0001 to DEMO-0100/)
      expect((await gql('{ inventory(sku: "DEMO-0100") { sku available reserved } }')).data.inventory)
        .toEqual({ sku: 'DEMO-0100', available: 1_000_000, reserved: 0 })

      // The README's first example.
      const placed = await gql('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { bulkUuid errors requestItems { orderNumber status } } }', {
        input: {
          customerEmail: 'ada@example.com',
          currency: 'EUR',
          items: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '19.99' }],
          shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
        }
      })
      expect(placed.errors).toBeUndefined()
      const number: string = placed.data.placeOrder.requestItems[0].orderNumber
      const completed = await eventually(async () => {
        const { data } = await gql('query ($n: String!) { order(number: $n) { status total steps { name status } } }', { n: number })
        return data.order?.status === 'COMPLETED' ? data.order : undefined
      }, 60_000, `order ${number} to complete`)
      expect(completed.total).toBe('39.9800')
      expect(completed.steps.every((step: { status: string }) => step.status === 'DONE')).toBe(true)
      expect(fs.readdirSync(path.join(dataDir, 'outbox')).filter(name => name.endsWith('.eml'))).toHaveLength(2)

      child.process.kill('SIGTERM')
      expect((await child.exited).code).toBe(0)
    } finally {
      if (isRunning(child)) child.process.kill('SIGKILL')
      await child.exited
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 150_000)
})
