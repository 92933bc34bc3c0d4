import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { upload } from './helpers/upload.ts'
import { runRetention } from '../src/operations/retention.ts'

// An upload's answer is read from its bulk (src/operations/requestItems.ts), and an idempotency key may
// be kept longer than bulks (IDEMPOTENCY_TTL_HOURS 48 and RETENTION_DAYS 1 are both accepted settings):
// retention keeps a bulk while a key answers with it, so that a replay answers the first answer's items.
let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway({ roles: ['gateway'] }) })
afterAll(async () => { await gateway?.stop() })

const QUERY = 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, idempotencyKey: "upload-replay-1") { bulkUuid errors requestItems { id status errorMessage } } }'

describe('a replayed upload key whose bulk is past its retention', () => {
  it('answers the items the first answer had: the bulk stays while its key does, and goes with it', async () => {
    // Two lines that are not orders: REJECTED at once, so the bulk is finished and may be deleted.
    const content = '{"not":"an order"}\n{"neither":1}\n'
    const first = await upload(gateway, content, QUERY)
    const uuid = first.body.data.placeOrdersFromFile.bulkUuid
    expect(first.body.data.placeOrdersFromFile.requestItems).toHaveLength(2)
    await waitForBulk(gateway, uuid, ['FINISHED_WITH_FAILURE', 'FINISHED_SUCCESSFULLY', 'REJECTED'])
    // Retention as scheduled with RETENTION_DAYS=1, IDEMPOTENCY_TTL_HOURS=48, a day and a half later.
    const kept = await runRetention(gateway.sql, { retentionDays: 1, failedRetentionDays: 1, idempotencyTtlHours: 48, now: new Date(Date.now() + 36 * 3_600_000) })
    expect(kept).toMatchObject({ bulks: 0, idempotencyKeys: 0 })

    const replay = await upload(gateway, content, QUERY)
    expect(replay.body.data.placeOrdersFromFile).toEqual(first.body.data.placeOrdersFromFile)

    // Once the key has expired, both go.
    const removed = await runRetention(gateway.sql, { retentionDays: 1, failedRetentionDays: 1, idempotencyTtlHours: 48, now: new Date(Date.now() + 49 * 3_600_000) })
    expect(removed).toMatchObject({ bulks: 1, idempotencyKeys: 1 })
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM operation WHERE bulk_uuid = $1', [uuid])
    expect(rows[0].n).toBe(0)
  }, 60_000)
})
