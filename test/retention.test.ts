import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runRetention } from '../src/operations/retention.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String, $idempotencyKey: String) {
  placeOrders(input: $input, notifyUrl: $notifyUrl, idempotencyKey: $idempotencyKey) { bulkUuid }
}`

const DAY = 86_400_000
const OPTIONS = { retentionDays: 60, failedRetentionDays: 180, idempotencyTtlHours: 24 }

let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({
    // A transient failure waits an hour for its retry: a bulk that stays unfinished.
    env: { JOB_RETRY_DELAY_SECONDS: '3600', WEBHOOK_SECRET: 'test-webhook-secret-3f9a1c7e5b2d' }
  })
  await gateway.sql.query(`
    CREATE FUNCTION test_stuck() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.customer_email = 'stuck@example.com' THEN
        RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = 'serialization_failure';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_stuck BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_stuck();`)
})
afterAll(async () => { await gateway.stop() })

async function place (input: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const { data, errors } = await gateway.gql(PLACE, { input, ...extra })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.placeOrders.bulkUuid
}

/** Moves a bulk back in time: its creation, and the ends of its finished operations. */
async function age (uuid: string, days: number, { operations = true } = {}): Promise<void> {
  await gateway.sql.query('UPDATE bulk SET created_at = created_at - make_interval(days => $2) WHERE uuid = $1', [uuid, days])
  if (operations) {
    await gateway.sql.query(`UPDATE operation SET created_at = created_at - make_interval(days => $2),
      started_at = started_at - make_interval(days => $2), finished_at = finished_at - make_interval(days => $2)
      WHERE bulk_uuid = $1`, [uuid, days])
  }
}

/** Waits until every order the bulk's placements created is final (retention keeps a bulk with a live order). */
async function ordersFinal (uuid: string): Promise<void> {
  await eventually(async () => {
    const { rows } = await gateway.sql.query(`SELECT count(*)::int AS n FROM orders o JOIN operation op ON op.id = o.operation_id
      WHERE op.bulk_uuid = $1 AND o.status IN ('PLACED', 'CANCELING')`, [uuid])
    return rows[0].n === 0 ? true : undefined
  }, 60_000, `the orders of bulk ${uuid} to be final`)
}

async function count (sql: string, uuid: string): Promise<number> {
  const { rows } = await gateway.sql.query(`SELECT count(*)::int AS n FROM ${sql}`, [uuid])
  return rows[0].n
}

async function remains (uuid: string): Promise<{ bulk: number, operations: number, progress: number, notifications: number }> {
  return {
    bulk: await count('bulk WHERE uuid = $1', uuid),
    operations: await count('operation WHERE bulk_uuid = $1', uuid),
    progress: await count('bulk_progress WHERE bulk_uuid = $1', uuid),
    notifications: await count('bulk_notification WHERE bulk_uuid = $1', uuid)
  }
}

describe('retention', () => {
  it('deletes finished bulks older than RETENTION_DAYS with their operations, and keeps their orders', async () => {
    // Its webhook cannot be delivered (fetch refuses port 9): a notification is pending when it goes.
    const old = await place([order(), order(), order({ currency: 'XYZ' })], { notifyUrl: 'http://127.0.0.1:9/hook' })
    const recent = await place([order()])
    const stuck = await place([order({ customerEmail: 'stuck@example.com' })])
    const retriedLately = await place([order()])
    await waitForBulk(gateway, old)
    await waitForBulk(gateway, recent)
    await waitForBulk(gateway, retriedLately)
    await waitForBulk(gateway, stuck, ['IN_PROGRESS'])
    await ordersFinal(old)
    await eventually(async () => await count('bulk_notification WHERE bulk_uuid = $1', old) === 1 ? true : undefined, 10_000, 'the notification')
    const { rows: orders } = await gateway.sql.query(
      'SELECT o.id FROM orders o JOIN operation op ON op.id = o.operation_id WHERE op.bulk_uuid = $1', [old])
    expect(orders).toHaveLength(2)

    await age(old, 61)
    await age(stuck, 61)
    // Created long ago, but its last operation finished today.
    await age(retriedLately, 61, { operations: false })

    const result = await runRetention(gateway.app.pool, OPTIONS)
    expect(result).toMatchObject({ bulks: 1, operations: 3 })

    expect(await remains(old)).toEqual({ bulk: 0, operations: 0, progress: 0, notifications: 0 })
    const { data } = await gateway.gql('query ($uuid: ID!) { bulk(uuid: $uuid) { uuid } }', { uuid: old })
    expect(data.bulk).toBeNull()
    // The orders stay; only their link to the deleted operation is gone.
    const { rows: kept } = await gateway.sql.query('SELECT id, operation_id FROM orders WHERE id = ANY($1::uuid[])', [orders.map(o => o.id)])
    expect(kept).toHaveLength(2)
    expect(kept.every(o => o.operation_id === null)).toBe(true)
    const results = await fetch(gateway.httpUrl.replace(/\/graphql$/, `/bulks/${old}/results.jsonl`), { headers: { authorization: `Bearer ${gateway.adminToken}` } })
    expect(results.status).toBe(404)

    for (const uuid of [recent, stuck, retriedLately]) {
      expect(await remains(uuid)).toMatchObject({ bulk: 1, operations: 1 })
    }
    expect(await runRetention(gateway.app.pool, OPTIONS)).toEqual({ bulks: 0, operations: 0, idempotencyKeys: 0, exportFiles: 0 })
  })

  it('deletes in batches of bounded size, a bulk larger than a batch alone', async () => {
    const sizes = [2, 2, 5, 1, 2]
    const bulks: string[] = []
    for (const size of sizes) bulks.push(await place(Array.from({ length: size }, () => order())))
    for (const uuid of bulks) {
      await waitForBulk(gateway, uuid)
      await ordersFinal(uuid)
      await age(uuid, 90)
    }
    const result = await runRetention(gateway.app.pool, { ...OPTIONS, batchOperations: 3 })
    expect(result).toMatchObject({ bulks: 5, operations: 12 })
    for (const uuid of bulks) expect(await remains(uuid)).toMatchObject({ bulk: 0, operations: 0 })
  })

  it('deletes idempotency keys older than IDEMPOTENCY_TTL_HOURS', async () => {
    const first = await place([order()], { idempotencyKey: 'retention-old' })
    const kept = await place([order()], { idempotencyKey: 'retention-new' })
    await gateway.sql.query("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = 'retention-old'")
    await gateway.sql.query("UPDATE idempotency_key SET created_at = now() - interval '23 hours' WHERE key = 'retention-new'")

    const result = await runRetention(gateway.app.pool, OPTIONS)
    expect(result.idempotencyKeys).toBe(1)
    const { rows } = await gateway.sql.query("SELECT key FROM idempotency_key WHERE key LIKE 'retention-%' ORDER BY key")
    expect(rows.map(r => r.key)).toEqual(['retention-new'])
    // A forgotten key is new again; a kept one still answers with its first bulk.
    expect(await place([order()], { idempotencyKey: 'retention-old' })).not.toBe(first)
    expect(await place([order()], { idempotencyKey: 'retention-new' })).toBe(kept)
  })

  it('runs as a scheduled pg-boss job, and pg-boss keeps jobs no longer than bulks', async () => {
    const schedule = await gateway.app.boss.getSchedule('bulk.retention')
    expect(schedule).toMatchObject({ name: 'bulk.retention', cron: '23 * * * *', timezone: 'UTC' })

    const uuid = await place([order()])
    await waitForBulk(gateway, uuid)
    await ordersFinal(uuid)
    await age(uuid, 61)
    // What the cron sends, sent now.
    await gateway.app.boss.send('bulk.retention', {})
    await eventually(async () => await count('bulk WHERE uuid = $1', uuid) === 0 ? true : undefined, 30_000, 'the retention job to delete the bulk')

    for (const name of ['order.place', 'order.place.dead', 'bulk.notify', 'bulk.notify.dead', 'bulk.retention']) {
      const queue = await gateway.app.boss.getQueue(name)
      // Waiting jobs are kept as long as bulks (60 days); finished ones a week at most.
      expect({ name, retentionSeconds: queue?.retentionSeconds, deleteAfterSeconds: queue?.deleteAfterSeconds })
        .toEqual({ name, retentionSeconds: 60 * DAY / 1000, deleteAfterSeconds: 7 * DAY / 1000 })
    }
  })
})

describe('retention and live orders (issue 13, items 4 and 5)', () => {
  const PLACE_ONE = `mutation ($input: [PlaceOrderInput!]!) {
    placeOrders(input: $input) { bulkUuid requestItems { orderNumber } }
  }`
  const RETRY_BULK = 'mutation ($uuid: ID!) { retryBulk(uuid: $uuid) { status } }'
  const unknownSku = (sku: string): Record<string, unknown> => order({ items: [{ sku, quantity: 1, unitPrice: '1' }] })

  /** Waits until a backend waits for a lock while running a statement that starts with `prefix`. */
  async function waitingOn (prefix: string): Promise<void> {
    await eventually(async () => {
      const { rows } = await gateway.sql.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 || '%'", [prefix])
      return rows.length > 0 ? true : undefined
    }, 10_000, `a statement starting "${prefix}" to wait for a lock`)
  }

  /** Accepts an order operation as `token` and answers its operation once its bulk has finished. */
  async function orderOperation (mutation: 'cancelOrder' | 'retryOrder', number: string, token: string): Promise<any> {
    const { data } = await gateway.gql(`mutation ($number: String!) { ${mutation}(number: $number) { bulkUuid requestItems { status errorMessage } } }`, { number }, token)
    const answer = data[mutation]
    if (answer.requestItems[0].status === 'REJECTED') return answer.requestItems[0]
    return (await waitForBulk(gateway, answer.bulkUuid)).operations.edges[0].node
  }

  it('keeps the bulk of an order that is not final, however old', async () => {
    // tok_unavailable fails its first capture, and the retry waits an hour: the order stays PLACED.
    const uuid = await place([order({ paymentToken: 'tok_unavailable' })])
    await waitForBulk(gateway, uuid)
    await eventually(async () => {
      const { rows } = await gateway.sql.query('SELECT o.view FROM orders o JOIN operation op ON op.id = o.operation_id WHERE op.bulk_uuid = $1', [uuid])
      return rows[0]?.view.steps.find((s: any) => s.name === 'capturePayment').status === 'RETRYING' ? true : undefined
    }, 30_000, 'the capture to wait for its retry')
    await age(uuid, 400)
    await runRetention(gateway.app.pool, OPTIONS)
    expect(await remains(uuid)).toMatchObject({ bulk: 1, operations: 1 })
  })

  it('keeps a bulk with a failed operation FAILED_RETENTION_DAYS, longer than a successful one', async () => {
    const failed = await place([unknownSku('NOPE-RETENTION')])
    const succeeded = await place([order()])
    expect((await waitForBulk(gateway, failed)).status).toBe('FINISHED_WITH_FAILURE')
    await waitForBulk(gateway, succeeded)
    await ordersFinal(succeeded)
    await age(failed, 61)
    await age(succeeded, 61)
    await runRetention(gateway.app.pool, OPTIONS)
    expect((await remains(failed)).bulk).toBe(1)
    expect((await remains(succeeded)).bulk).toBe(0)
    await age(failed, 120)
    await runRetention(gateway.app.pool, OPTIONS)
    expect((await remains(failed)).bulk).toBe(0)
  })

  it('lets the owner, and only the owner, act on an order whose bulk is gone: ownership comes from the order', async () => {
    const shop = await gateway.createToken('shop-retention')
    const mallory = await gateway.createToken('mallory-retention')
    const { data } = await gateway.gql(PLACE_ONE, { input: [order()] }, shop)
    const uuid = data.placeOrders.bulkUuid
    const number = data.placeOrders.requestItems[0].orderNumber
    await waitForBulk(gateway, uuid)
    await ordersFinal(uuid)
    await age(uuid, 61)
    await runRetention(gateway.app.pool, OPTIONS)
    expect((await remains(uuid)).bulk).toBe(0)

    // Accepted, and decided on the order: it is completed.
    expect(await orderOperation('retryOrder', number, shop)).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'ORDER_COMPLETED' })
    expect(await orderOperation('cancelOrder', number, shop)).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'ORDER_COMPLETED' })
    expect(await orderOperation('cancelOrder', number, mallory)).toEqual({ status: 'REJECTED', errorMessage: `no order ${number}` })
  })

  it('does not delete a bulk that retryBulk reopens while retention runs (guarded on the bulk row)', async () => {
    const uuid = await place([unknownSku('NOPE-RACE')])
    await waitForBulk(gateway, uuid)
    await age(uuid, 200)
    const locker = await gateway.sql.connect()
    try {
      // Holds the failed operation's row: retryBulk takes the bulk's lock, then waits here.
      await locker.query('BEGIN')
      await locker.query('SELECT id FROM operation WHERE bulk_uuid = $1 FOR UPDATE', [uuid])
      const retry = gateway.gql(RETRY_BULK, { uuid })
      await waitingOn('WITH failed AS')
      // Retention reads the bulk as expired (the retry has not committed), then waits for the bulk's row.
      const retention = runRetention(gateway.app.pool, OPTIONS)
      await waitingOn('WITH candidates AS')
      await locker.query('ROLLBACK')
      const [{ data, errors }] = await Promise.all([retry, retention])
      expect(errors).toBeUndefined()
      expect(data.retryBulk.status).toBe('IN_PROGRESS')
    } finally {
      locker.release()
    }
    expect(await remains(uuid)).toMatchObject({ bulk: 1, operations: 1 })
    // The retry ran (and failed again: the SKU is still unknown).
    const bulk = await waitForBulk(gateway, uuid)
    expect(bulk.operations.edges[0].node).toMatchObject({ attempts: 2, errorCode: 'UNKNOWN_SKU' })
  })
})
