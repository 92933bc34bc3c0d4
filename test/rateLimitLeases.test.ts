import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LEASE_SHARE } from '../src/access/rateLimitLeases.ts'
import { eventually, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 17, item 6: the rate limit is spent from leases PostgreSQL grants, not counted by a
// statement per operation, and still holds across gateways: never more than the limit in a window.

const LIMIT = 200
const WINDOW_SECONDS = 15
const TYPENAME = '{ __typename }'

let first: TestGateway
let second: TestGateway
beforeAll(async () => {
  const env = { RATE_LIMIT_PER_MINUTE: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) }
  first = await startGateway({ roles: ['gateway'], env })
  second = await startGateway({ roles: ['gateway'], db: first.db, env: { ...env, ADMIN_TOKEN: first.adminToken } })
})
afterAll(async () => {
  await second?.stop()
  await first?.stop()
})

async function status (target: TestGateway): Promise<number> {
  const response = await fetch(target.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.adminToken}` },
    body: JSON.stringify({ query: TYPENAME })
  })
  await response.arrayBuffer()
  return response.status
}

/** `count` requests, `concurrency` at a time, the i-th to `pick(i)`: their statuses. */
async function burst (count: number, concurrency: number, pick: (i: number) => TestGateway): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      statuses[i] = await status(pick(i))
    }
  }))
  return statuses
}

/** Waits for the next window to begin, on the database's clock. */
async function nextWindow (): Promise<void> {
  const { rows: [{ ms }] } = await first.sql.query(
    'SELECT (ceil(extract(epoch FROM clock_timestamp()) / $1) * $1 - extract(epoch FROM clock_timestamp())) * 1000 AS ms', [WINDOW_SECONDS])
  await new Promise(resolve => setTimeout(resolve, Number(ms) + 50))
}

async function rowHits (): Promise<number> {
  const { rows } = await first.sql.query('SELECT coalesce(sum(hits), 0)::int AS hits FROM rate_limit WHERE window_start > now() - make_interval(secs => $1)', [WINDOW_SECONDS])
  return rows[0].hits
}

describe('rate limits from leases', () => {
  it('never lets a burst spread over two gateways pass the limit: exactly the limit gets through', async () => {
    await nextWindow()
    // Three times the limit, 32 at a time, alternating between the gateways.
    const statuses = await burst(3 * LIMIT, 32, i => i % 2 === 0 ? first : second)
    expect(statuses.filter(code => code === 200)).toHaveLength(LIMIT)
    expect(statuses.filter(code => code === 429)).toHaveLength(2 * LIMIT)
    // The database never counted past the limit, and both gateways refuse from now on.
    expect(await rowHits()).toBe(LIMIT)
    expect(await status(first)).toBe(429)
    expect(await status(second)).toBe(429)
  })

  it('gives an idle lease back, so that the caller gets the rest of its limit on another gateway', async () => {
    await nextWindow()
    expect(await status(first)).toBe(200)
    // The first lease was an eighth of the limit; one hit of it was spent.
    expect(await rowHits()).toBe(Math.ceil(LIMIT / LEASE_SHARE))
    // Unused for a second, the rest goes back to the database…
    await eventually(async () => (await rowHits()) === 1 ? true : undefined, 10_000, 'the lease given back')
    // …and the other gateway grants it: the whole limit, not a hit more.
    const statuses = await burst(LIMIT, 8, () => second)
    expect(statuses.filter(code => code === 200)).toHaveLength(LIMIT - 1)
    expect(statuses.filter(code => code === 429)).toHaveLength(1)
  })
})
