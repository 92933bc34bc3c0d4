import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runRetention } from '../src/operations/retention.ts'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String, $idempotencyKey: String) {
  placeOrders(input: $input, notifyUrl: $notifyUrl, idempotencyKey: $idempotencyKey) { bulkUuid }
}`

const DAY = 86_400_000
const OPTIONS = { retentionDays: 60, idempotencyTtlHours: 24 }

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
    expect(await runRetention(gateway.app.pool, OPTIONS)).toEqual({ bulks: 0, operations: 0, idempotencyKeys: 0 })
  })

  it('deletes in batches of bounded size, a bulk larger than a batch alone', async () => {
    const sizes = [2, 2, 5, 1, 2]
    const bulks: string[] = []
    for (const size of sizes) bulks.push(await place(Array.from({ length: size }, () => order())))
    for (const uuid of bulks) {
      await waitForBulk(gateway, uuid)
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
