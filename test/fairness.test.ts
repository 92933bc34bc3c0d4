import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

/**
 * Issue 15, part 1: one owner's large bulk does not hold up another owner's work. Placements only, in
 * batches of 100 on two workers, so that A's bulk takes many batches; each test asserts on order
 * (B finishes while most of A is still open), never on times.
 */
const A_SIZE = 4000
const PLACE = 'mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid errors } }'
const PLACE_ONE = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { bulkUuid } }'
const COUNTS = 'query ($uuid: ID!) { bulk(uuid: $uuid) { status counts { open complete } } }'

async function counts (gateway: TestGateway, uuid: string): Promise<{ open: number, complete: number }> {
  const { data, errors } = await gateway.gql(COUNTS, { uuid })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.bulk.counts
}

/** Accepts A's large bulk and waits until workers are on it. */
async function startLargeBulk (gateway: TestGateway, token: string): Promise<string> {
  const { data, errors } = await gateway.gql(PLACE, { input: Array.from({ length: A_SIZE }, (_, i) => order({ customerEmail: `a${i}@example.com` })) }, token)
  if (errors) throw new Error(JSON.stringify(errors))
  const uuid: string = data.placeOrders.bulkUuid
  await eventually(async () => (await counts(gateway, uuid)).complete > 0 ? true : undefined, 60_000, "A's bulk to begin")
  return uuid
}

describe('a single order while another owner\'s large bulk runs (priorities)', () => {
  let gateway: TestGateway
  beforeAll(async () => {
    // No group limit here: only the priority of single operations lets B's order overtake A's items.
    gateway = await startGateway({ env: { WORKER_TOPICS: 'order.place', WORKER_BATCH_SIZE: '100', WORKER_CONCURRENCY: '2', OWNER_MAX_OPERATIONS_IN_FLIGHT: '0' } })
  })
  afterAll(async () => { await gateway.stop() })

  it("completes B's placeOrder while most of A's bulk is still open", async () => {
    const a = await startLargeBulk(gateway, await gateway.createToken('owner-a'))
    const { data } = await gateway.gql(PLACE_ONE, { input: order({ customerEmail: 'b@example.com' }) }, await gateway.createToken('owner-b'))
    await waitForBulk(gateway, data.placeOrder.bulkUuid, ['FINISHED_SUCCESSFULLY'], 60_000)
    const aNow = await counts(gateway, a)
    // B waited for at most the batches already running (2 × 100), not for A's 4,000.
    expect(aNow.open).toBeGreaterThan(A_SIZE / 2)
    await waitForBulk(gateway, a, ['FINISHED_SUCCESSFULLY'], 180_000)
  }, 300_000)
})

describe("another owner's bulk while a large bulk runs (group concurrency), and open bulks per owner", () => {
  let gateway: TestGateway
  beforeAll(async () => {
    // A may hold one batch of the two workers at a time, whichever process they are in.
    gateway = await startGateway({
      env: { WORKER_TOPICS: 'order.place', WORKER_BATCH_SIZE: '100', WORKER_CONCURRENCY: '2', OWNER_MAX_OPERATIONS_IN_FLIGHT: '100', OWNER_MAX_OPEN_BULKS: '1' }
    })
  })
  afterAll(async () => { await gateway.stop() })

  it("finishes B's bulk of 50, accepted after A's 4,000, while most of A's is still open; A may not open a second bulk meanwhile", async () => {
    const tokenA = await gateway.createToken('owner-a')
    const a = await startLargeBulk(gateway, tokenA)

    const bulksBefore = (await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n
    const refused = await gateway.gql(PLACE, { input: [order(), order()] }, tokenA)
    expect(refused.data).toBeNull()
    expect(refused.errors?.[0]?.extensions?.code).toBe('TOO_MANY_OPEN_BULKS')
    expect(refused.errors?.[0]?.message).toMatch(/1 bulk\(s\) of this caller are still running, and at most 1 may be \(OWNER_MAX_OPEN_BULKS\)/)
    expect((await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n).toBe(bulksBefore)
    // A single order is not a bulk: still accepted.
    const single = await gateway.gql(PLACE_ONE, { input: order() }, tokenA)
    expect(single.errors).toBeUndefined()

    const { data, errors } = await gateway.gql(PLACE, { input: Array.from({ length: 50 }, () => order({ customerEmail: 'b@example.com' })) }, await gateway.createToken('owner-b'))
    expect(errors).toBeUndefined()
    await waitForBulk(gateway, data.placeOrders.bulkUuid, ['FINISHED_SUCCESSFULLY'], 60_000)
    expect((await counts(gateway, a)).open).toBeGreaterThan(A_SIZE / 2)

    await waitForBulk(gateway, a, ['FINISHED_SUCCESSFULLY'], 180_000)
    // Once A's bulk has finished, A may open another.
    expect((await gateway.gql(PLACE, { input: [order(), order()] }, tokenA)).errors).toBeUndefined()
  }, 300_000)
})
