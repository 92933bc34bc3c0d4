import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notifyIfFinished } from '../src/operations/webhooks/enqueue.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, spawnMain, type Child } from './helpers/processes.ts'
import { LoopbackReceiver, signatureValid, standardVerified, type Received } from './helpers/receiver.ts'

/** WEBHOOK_SECRET: set, so that webhooks carry the older X-Signature-256 too (the transition). */
const LEGACY_SECRET = 'test-webhook-secret-3f9a1c7e5b2d'
const ENV = {
  WEBHOOK_SECRET: LEGACY_SECRET,
  // The receivers of these tests listen on loopback, which webhooks refuse by default.
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_LIMIT: '2',
  WEBHOOK_RETRY_DELAY_SECONDS: '1',
  WEBHOOK_TIMEOUT_MS: '5000',
  // The periodic sweep has a test of its own below; here a finish is found by a notification or a worker's start.
  WEBHOOK_SWEEP_SECONDS: '3600'
}

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String) {
  placeOrders(input: $input, notifyUrl: $notifyUrl) { bulkUuid }
}`

const NOTIFICATIONS = `query ($uuid: ID!) {
  bulk(uuid: $uuid) {
    status finishedAt
    notifications { id url state finishedAt settledAt attempts { attempt url attemptedAt httpStatus error delivered durationMs } }
  }
}`

/** A webhook receiver on loopback: `/flaky/…` answers 500 twice then 200, `/down/…` always 500, anything else 200. */
function webhookReceiver (): LoopbackReceiver {
  return new LoopbackReceiver(({ path }, seenBefore) => {
    const status = path.startsWith('/down/') ? 500 : path.startsWith('/flaky/') && seenBefore < 2 ? 500 : 200
    return { status, headers: { 'content-type': 'text/plain' }, body: status === 200 ? 'thanks' : 'not now' }
  })
}

/**
 * A delivery as the tests look at it: its JSON body, and whether it is signed as documented: by the
 * owner's Standard Webhooks secret (the admin's: every bulk here is the admin's), and by WEBHOOK_SECRET
 * in the older scheme.
 */
function delivery (received: Received): Received & { readonly json: any, readonly signatureValid: boolean } {
  const signed = standardVerified(ownerSecret, received.headers, received.body) !== null && signatureValid(LEGACY_SECRET, received.headers, received.body)
  return { ...received, json: JSON.parse(received.body), signatureValid: signed }
}

const receiver = webhookReceiver()
const deliveriesTo = (path: string): Array<ReturnType<typeof delivery>> => receiver.to(path).map(delivery)
let gateway: TestGateway
let publicUrl: string
/** The admin owner's webhook signing secret, as rotateWebhookSecret returned it. */
let ownerSecret: string
const workers: Child[] = []

async function finishWatchers (): Promise<number> {
  const { rows } = await gateway.sql.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'order-ops-gateway:finish-watcher'")
  return rows[0].n
}

/** A worker in a process of its own, on the same database; resolves once its finish watcher listens. */
async function startWorkerProcess (): Promise<Child> {
  const before = await finishWatchers()
  const child = spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, PUBLIC_URL: publicUrl, LOG_LEVEL: 'warn', ...ENV })
  workers.push(child)
  await eventually(async () => {
    if (!isRunning(child)) throw new Error(`the worker exited: ${child.stderr()}`)
    return await finishWatchers() > before ? true : undefined
  }, 30_000, 'the worker process to listen')
  return child
}

async function place (input: unknown[], notifyUrl: string | null): Promise<string> {
  const { data, errors } = await gateway.gql(PLACE, { input, notifyUrl })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.placeOrders.bulkUuid
}

async function notificationsOf (uuid: string): Promise<any> {
  const { data, errors } = await gateway.gql(NOTIFICATIONS, { uuid })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.bulk
}

/** Waits until the bulk's notifications are all settled and there are `count` of them. */
async function settled (uuid: string, count = 1): Promise<any> {
  return await eventually(async () => {
    const bulk = await notificationsOf(uuid)
    return bulk.notifications.length === count && bulk.notifications.every((n: any) => n.state !== 'PENDING') ? bulk : undefined
  }, 40_000, `the notifications of bulk ${uuid} to settle`)
}

beforeAll(async () => {
  await receiver.start()
  // A port known in advance, so that every process (the gateway and the worker processes) makes
  // the same links from PUBLIC_URL, whichever of them sends a webhook.
  const port = await freePort()
  publicUrl = `http://127.0.0.1:${port}`
  gateway = await startGateway({ env: { ...ENV, PORT: String(port), PUBLIC_URL: publicUrl } })
  const { data } = await gateway.gql('mutation { rotateWebhookSecret(previousValidHours: 0) { secret } }')
  ownerSecret = data.rotateWebhookSecret.secret
  // Two processes with workers: the gateway's own, and this one.
  await startWorkerProcess()
  expect(await finishWatchers()).toBe(2)
})

afterAll(async () => {
  // The worker processes met nothing unexpected (failed attempts are warnings).
  for (const worker of workers) expect(worker.stderr()).not.toMatch(/"level":"error"/)
  await killAll()
  await gateway?.stop()
  await receiver.stop()
})

describe('webhooks on finish', () => {
  it('POSTs one signed summary per finish, although two worker processes see every finish', async () => {
    const bulks = await Promise.all(Array.from({ length: 6 }, async (_, i) =>
      await place(Array.from({ length: 8 }, (_, j) => order(j === 3 && i % 2 === 0 ? { currency: 'XYZ' } : {})), receiver.url(`/ok/${i}`))))
    for (const uuid of bulks) await waitForBulk(gateway, uuid)
    for (const uuid of bulks) await settled(uuid)
    // Late duplicates would have arrived by now: both watchers saw every change.
    await new Promise(resolve => setTimeout(resolve, 2000))

    for (const [i, uuid] of bulks.entries()) {
      const deliveries = deliveriesTo(`/ok/${i}`)
      expect(deliveries).toHaveLength(1)
      const [delivery] = deliveries
      expect(delivery!.signatureValid).toBe(true)
      expect(delivery!.headers['content-type']).toBe('application/json')
      expect(delivery!.headers['x-webhook-event']).toBe('bulk.finished')
      expect(delivery!.headers['x-webhook-attempt']).toBe('1')

      const bulk = await notificationsOf(uuid)
      const failed = i % 2 === 0
      expect(delivery!.json).toEqual({
        event: 'bulk.finished',
        notificationId: bulk.notifications[0].id,
        uuid,
        description: null,
        status: failed ? 'FINISHED_WITH_FAILURE' : 'FINISHED_SUCCESSFULLY',
        operationCount: 8,
        counts: { open: 0, complete: failed ? 7 : 8, retriablyFailed: 0, notRetriablyFailed: 0, rejected: failed ? 1 : 0, canceled: 0, expired: 0 },
        createdAt: expect.any(String),
        startedAt: expect.any(String),
        finishedAt: bulk.finishedAt,
        resultsUrl: `${publicUrl}/bulks/${uuid}/results.jsonl`
      })
      expect(Object.keys(delivery!.json)[0]).toBe('event')
      expect(delivery!.headers['webhook-id']).toBe(bulk.notifications[0].id)
      expect(delivery!.headers['x-webhook-id']).toBe(bulk.notifications[0].id)
      expect(bulk.notifications).toEqual([{
        id: expect.any(String),
        url: receiver.url(`/ok/${i}`),
        state: 'DELIVERED',
        finishedAt: bulk.finishedAt,
        settledAt: expect.any(String),
        attempts: [{ attempt: 1, url: receiver.url(`/ok/${i}`), attemptedAt: expect.any(String), httpStatus: 200, error: null, delivered: true, durationMs: expect.any(Number) }]
      }])
    }
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM bulk_notification WHERE bulk_uuid = ANY($1::uuid[])', [bulks])
    expect(rows[0].n).toBe(6)
  })

  it('enqueues one notification when many transactions race on the same finish', async () => {
    const uuid = await place([order({ currency: 'XYZ' })], null)
    await waitForBulk(gateway, uuid)
    await new Promise(resolve => setTimeout(resolve, 1000))
    await gateway.sql.query('UPDATE bulk SET notify_url = $2 WHERE uuid = $1', [uuid, receiver.url('/race')])
    // What every worker's watcher does on a change, ten times at once on ten connections.
    const pool = new pg.Pool({ connectionString: gateway.db.url, max: 10 })
    try {
      const ids = await Promise.all(Array.from({ length: 10 }, async () =>
        await notifyIfFinished({ pool, boss: gateway.app.boss, publicUrl }, uuid)))
      expect(ids.filter(id => id !== null)).toHaveLength(1)
    } finally {
      await pool.end()
    }
    await settled(uuid)
    const { rows } = await gateway.sql.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'bulk.notify' AND data->>'notificationId' IN (SELECT id::text FROM bulk_notification WHERE bulk_uuid = $1)", [uuid])
    expect(rows[0].n).toBe(1)
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(deliveriesTo('/race')).toHaveLength(1)
  })

  it('notifies a bulk whose items were all rejected: it finished at acceptance', async () => {
    const uuid = await place([order({ currency: 'XYZ' }), order({ customerEmail: 'nope' })], receiver.url('/rejected'))
    const bulk = await settled(uuid)
    expect(bulk.notifications[0].state).toBe('DELIVERED')
    await new Promise(resolve => setTimeout(resolve, 1000))
    const deliveries = deliveriesTo('/rejected')
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]!.signatureValid).toBe(true)
    expect(deliveries[0]!.json).toMatchObject({
      uuid,
      status: 'FINISHED_WITH_FAILURE',
      operationCount: 2,
      counts: { open: 0, complete: 0, rejected: 2 },
      startedAt: null,
      finishedAt: bulk.finishedAt
    })
  })

  it('retries a receiver that answers 500 twice, and shows every attempt on the bulk', async () => {
    const uuid = await place([order()], receiver.url('/flaky/1'))
    const bulk = await settled(uuid)
    const [notification] = bulk.notifications
    expect(notification.state).toBe('DELIVERED')
    expect(notification.attempts.map((a: any) => ({ attempt: a.attempt, httpStatus: a.httpStatus, error: a.error, delivered: a.delivered }))).toEqual([
      { attempt: 1, httpStatus: 500, error: 'HTTP 500', delivered: false },
      { attempt: 2, httpStatus: 500, error: 'HTTP 500', delivered: false },
      { attempt: 3, httpStatus: 200, error: null, delivered: true }
    ])
    const times = notification.attempts.map((a: any) => Date.parse(a.attemptedAt))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(Date.parse(notification.settledAt)).toBeGreaterThanOrEqual(times[2])

    const deliveries = deliveriesTo('/flaky/1')
    expect(deliveries.map(d => d.status)).toEqual([500, 500, 200])
    expect(deliveries.map(d => d.headers['x-webhook-attempt'])).toEqual(['1', '2', '3'])
    // One notification: the same id and body each time, signed afresh each time.
    expect(new Set(deliveries.map(d => d.headers['webhook-id']))).toEqual(new Set([notification.id]))
    expect(new Set(deliveries.map(d => d.headers['x-webhook-id']))).toEqual(new Set([notification.id]))
    expect(new Set(deliveries.map(d => d.body)).size).toBe(1)
    expect(deliveries.every(d => d.signatureValid)).toBe(true)
  })

  it('gives up once its retries are used up: FAILED, with every attempt', async () => {
    const uuid = await place([order()], receiver.url('/down/1'))
    const bulk = await settled(uuid)
    const [notification] = bulk.notifications
    expect(notification.state).toBe('FAILED')
    expect(notification.settledAt).not.toBeNull()
    // WEBHOOK_RETRY_LIMIT=2: the first attempt and two retries.
    expect(notification.attempts.map((a: any) => [a.attempt, a.httpStatus, a.delivered])).toEqual([[1, 500, false], [2, 500, false], [3, 500, false]])
    expect(deliveriesTo('/down/1')).toHaveLength(3)
  })

  it('notifies a finish that happened while no worker listened, when the next worker starts', async () => {
    const uuid = await place([order({ currency: 'XYZ' })], null)
    await waitForBulk(gateway, uuid)
    // Once the watchers have looked at this finish (and found no notify_url), notify_url is set
    // behind their backs: no operation changes, so nobody is told.
    await new Promise(resolve => setTimeout(resolve, 1000))
    await gateway.sql.query('UPDATE bulk SET notify_url = $2 WHERE uuid = $1', [uuid, receiver.url('/late')])
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(deliveriesTo('/late')).toHaveLength(0)

    // A worker starting sweeps for finished bulks without a notification.
    const late = await startWorkerProcess()
    const bulk = await settled(uuid)
    expect(bulk.notifications[0].state).toBe('DELIVERED')
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(deliveriesTo('/late')).toHaveLength(1)
    late.process.kill('SIGTERM')
    expect((await late.exited).code).toBe(0)
  })

  it('notifies again when a retried bulk finishes again', async () => {
    // The first attempt of this customer's order fails for good; once allowed, retryBulk completes it.
    await gateway.sql.query(`
      CREATE TABLE test_allow (allowed boolean);
      CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.customer_email = 'refused@example.com' AND NOT EXISTS (SELECT 1 FROM test_allow) THEN
          RAISE EXCEPTION 'injected refusal' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_refuse();`)
    const uuid = await place([order(), order({ customerEmail: 'refused@example.com' })], receiver.url('/again'))
    const first = await settled(uuid)
    expect(deliveriesTo('/again').map(d => d.json.status)).toEqual(['FINISHED_WITH_FAILURE'])

    await gateway.sql.query('INSERT INTO test_allow VALUES (true)')
    const { errors } = await gateway.gql('mutation ($uuid: ID!) { retryBulk(uuid: $uuid) { status } }', { uuid })
    expect(errors).toBeUndefined()
    const second = await settled(uuid, 2)
    await new Promise(resolve => setTimeout(resolve, 1000))

    const deliveries = deliveriesTo('/again')
    expect(deliveries.map(d => d.json.status)).toEqual(['FINISHED_WITH_FAILURE', 'FINISHED_SUCCESSFULLY'])
    expect(deliveries.every(d => d.signatureValid)).toBe(true)
    expect(second.notifications.map((n: any) => n.state)).toEqual(['DELIVERED', 'DELIVERED'])
    expect(second.notifications[0]).toEqual(first.notifications[0])
    expect(Date.parse(second.notifications[1].finishedAt)).toBeGreaterThan(Date.parse(second.notifications[0].finishedAt))
    expect(deliveries[1]!.json.finishedAt).toBe(second.finishedAt)
  })
})

describe('webhook destinations', () => {
  it('refuses private, loopback and link-local addresses by default, saying why and nothing more', async () => {
    const guarded = await startGateway({ env: { WEBHOOK_RETRY_LIMIT: '0', WEBHOOK_TIMEOUT_MS: '2000' } })
    try {
      const uuids: string[] = []
      for (const url of ['http://127.0.0.1:5432/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:80/', 'http://10.1.2.3/']) {
        const { data } = await guarded.gql(PLACE, { input: [order({ currency: 'nope' })], notifyUrl: url })
        uuids.push(data.placeOrders.bulkUuid)
      }
      for (const uuid of uuids) {
        const bulk = await eventually(async () => {
          const { data } = await guarded.gql(NOTIFICATIONS, { uuid })
          return data.bulk.notifications[0]?.state === 'FAILED' ? data.bulk : undefined
        }, 30_000, 'the notification to fail')
        const [attempt] = bulk.notifications[0].attempts
        expect(attempt).toMatchObject({ delivered: false, httpStatus: null, durationMs: 0 })
        expect(attempt.error).toBe('not sent: the host is a private, loopback or link-local address (set WEBHOOK_ALLOW_PRIVATE to allow)')
      }
    } finally {
      await guarded.stop()
    }
  })
})

describe('a database fault that spares the LISTEN connection (issue 13, item 8)', () => {
  /**
   * The fault: writing a notification fails while test_fault says so; each failed write is counted
   * (in a sequence, which a rollback does not undo). LISTEN and every other statement keep working.
   */
  async function injectFault (sql: pg.Pool): Promise<{ lift: () => Promise<void>, hits: () => Promise<number> }> {
    await sql.query(`CREATE TABLE test_fault (active boolean NOT NULL);
      INSERT INTO test_fault VALUES (true);
      CREATE SEQUENCE test_fault_hits;
      CREATE FUNCTION test_fail_notification() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF EXISTS (SELECT 1 FROM test_fault WHERE active) THEN PERFORM nextval('test_fault_hits'); RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER test_fail_notification BEFORE INSERT ON bulk_notification FOR EACH ROW EXECUTE FUNCTION test_fail_notification();`)
    return {
      lift: async () => { await sql.query('UPDATE test_fault SET active = false') },
      hits: async () => {
        const { rows } = await sql.query('SELECT last_value, is_called FROM test_fault_hits')
        return rows[0].is_called ? Number(rows[0].last_value) : 0
      }
    }
  }

  async function delivered (on: TestGateway, uuid: string): Promise<any> {
    return await eventually(async () => {
      const { data } = await on.gql(NOTIFICATIONS, { uuid })
      return data.bulk.notifications[0]?.state === 'DELIVERED' ? data.bulk : undefined
    }, 60_000, 'the notification to be delivered')
  }

  it('retries a failed check until the database answers: a finish the start sweep could not notify is not dropped', async () => {
    // A gateway alone: the bulk, all of whose items are rejected, finishes at acceptance with no worker running.
    const front = await startGateway({ roles: ['gateway'], env: ENV })
    let worker: TestGateway | undefined
    try {
      const { data } = await front.gql(PLACE, { input: [order({ currency: 'XYZ' })], notifyUrl: receiver.url('/retried') })
      const uuid: string = data.placeOrders.bulkUuid
      await waitForBulk(front, uuid)
      const fault = await injectFault(front.sql)
      // The worker's start sweep finds the finish and fails to record its notification; no sweep follows for an hour.
      worker = await startGateway({ roles: ['worker'], db: front.db, env: ENV })
      await eventually(async () => await fault.hits() >= 3 ? true : undefined, 30_000, 'the check to fail three times')
      expect(receiver.to('/retried')).toHaveLength(0)

      await fault.lift()
      expect((await delivered(front, uuid)).notifications).toHaveLength(1)
      await new Promise(resolve => setTimeout(resolve, 1500))
      expect(receiver.to('/retried')).toHaveLength(1)
    } finally {
      await worker?.stop()
      await front.stop()
    }
  })

  it('sweeps every WEBHOOK_SWEEP_SECONDS: a finish no notification announces is found by the next sweep', async () => {
    const swept = await startGateway({ env: { ...ENV, WEBHOOK_SWEEP_SECONDS: '1' } })
    try {
      const { data } = await swept.gql(PLACE, { input: [order({ currency: 'XYZ' })], notifyUrl: null })
      const uuid: string = data.placeOrders.bulkUuid
      await waitForBulk(swept, uuid)
      await new Promise(resolve => setTimeout(resolve, 1000))
      // A finish no notification will announce (notify_url set behind the watcher's back changes no
      // operation); the fault makes the sweeps that find it fail, until it is lifted.
      const fault = await injectFault(swept.sql)
      await swept.sql.query('UPDATE bulk SET notify_url = $2 WHERE uuid = $1', [uuid, receiver.url('/swept')])
      await eventually(async () => await fault.hits() >= 2 ? true : undefined, 30_000, 'the sweeps to fail on the fault')
      expect(receiver.to('/swept')).toHaveLength(0)

      await fault.lift()
      expect((await delivered(swept, uuid)).notifications).toHaveLength(1)
      await new Promise(resolve => setTimeout(resolve, 1500))
      expect(receiver.to('/swept')).toHaveLength(1)
    } finally {
      await swept.stop()
    }
  })
})
