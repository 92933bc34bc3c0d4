import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { upload } from './helpers/upload.ts'
import { runRetention } from '../src/operations/retention.ts'

// Review of b3d6cf8 (an upload's answer is read from its bulk): an idempotency key may outlive its
// bulk (IDEMPOTENCY_TTL_HOURS 48 and RETENTION_DAYS 1 are both accepted settings), and a replay of an
// upload's key then answers from a bulk that is gone.
let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway({ roles: ['gateway'] }) })
afterAll(async () => { await gateway?.stop() })

const QUERY = 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, idempotencyKey: "review-replay-1") { bulkUuid errors requestItems { id status errorMessage } } }'

describe('a replayed upload key whose bulk retention deleted', () => {
  it('answers the items the first answer had', async () => {
    // Two lines that are not orders: REJECTED at once, so the bulk is finished and may be deleted.
    const content = '{"not":"an order"}\n{"neither":1}\n'
    const first = await upload(gateway, content, QUERY)
    const uuid = first.body.data.placeOrdersFromFile.bulkUuid
    expect(first.body.data.placeOrdersFromFile.requestItems).toHaveLength(2)
    await waitForBulk(gateway, uuid, ['FINISHED_WITH_FAILURE', 'FINISHED_SUCCESSFULLY', 'REJECTED'])
    // Retention as scheduled with RETENTION_DAYS=1, IDEMPOTENCY_TTL_HOURS=48, a day and a half later.
    const removed = await runRetention(gateway.sql, { retentionDays: 1, failedRetentionDays: 1, idempotencyTtlHours: 48, now: new Date(Date.now() + 36 * 3_600_000) })
    expect(removed).toMatchObject({ bulks: 1, idempotencyKeys: 0 })

    const replay = await upload(gateway, content, QUERY)
    expect(replay.body.data.placeOrdersFromFile).toEqual(first.body.data.placeOrdersFromFile)
  }, 60_000)
})
