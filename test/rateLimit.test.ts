import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIMIT_ERROR_CODE } from '../src/api/security/codes.ts'
import { rateLimitKeyOf } from '../src/api/security/rateLimit.ts'
import { LEASE_SHARE } from '../src/access/rateLimitLeases.ts'
import { order, PLACE_ORDER, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 5: per-caller rate limits that hold across gateway processes, counted in PostgreSQL.

const LIMIT = 10
const WINDOW_SECONDS = 5
const BULKS = '{ bulks(first: 1) { edges { node { uuid } } } }'

/** Two gateways on one database, with one admin token between them. */
let first: TestGateway
let second: TestGateway
beforeAll(async () => {
  const env = { RATE_LIMIT_PER_MINUTE: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) }
  first = await startGateway({ roles: ['gateway'], env })
  second = await startGateway({ roles: ['gateway'], db: first.db, env: { ...env, ADMIN_TOKEN: first.adminToken } })
})
afterAll(async () => {
  // The second does not own the database; the first drops it.
  await second?.stop()
  await first?.stop()
})

/** A raw POST, for the status and headers gql() does not show; `token` null sends none. */
async function post (target: TestGateway, query: string, variables?: Record<string, unknown>, token: string | null = target.adminToken): Promise<{ status: number, retryAfter: string | null, body: any }> {
  const response = await fetch(target.httpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token !== null ? { authorization: `Bearer ${token}` } : {})
    },
    body: JSON.stringify({ query, variables })
  })
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() }
}

/**
 * Waits for the next window to begin, on the database's clock (the one windows are aligned to), so
 * that what a test sends next falls in one window.
 */
async function nextWindow (): Promise<void> {
  const { rows: [{ ms }] } = await first.sql.query(
    'SELECT (ceil(extract(epoch FROM clock_timestamp()) / $1) * $1 - extract(epoch FROM clock_timestamp())) * 1000 AS ms', [WINDOW_SECONDS])
  await new Promise(resolve => setTimeout(resolve, Number(ms) + 50))
}

async function bulkCount (): Promise<number> {
  const { rows: [{ n }] } = await first.sql.query('SELECT count(*)::int AS n FROM bulk')
  return n
}

describe('rate limits', () => {
  it('keys operations by caller, else by client address', () => {
    expect(rateLimitKeyOf({ principal: { rateLimitKey: 'token:42' } })).toBe('token:42')
    expect(rateLimitKeyOf({ principal: null, req: { socket: { remoteAddress: '203.0.113.7' } } as any })).toBe('ip:203.0.113.7')
  })

  it('refuses operations over the limit with 429, Retry-After and RATE_LIMITED, runs nothing, and lets them through in the next window', async () => {
    await nextWindow()
    for (let i = 0; i < LIMIT; i++) expect((await post(first, BULKS)).status).toBe(200)

    const before = await bulkCount()
    const refused = await post(first, PLACE_ORDER, { input: order() })
    expect(refused.status).toBe(429)
    expect(refused.body.data).toBeUndefined()
    const [error] = refused.body.errors
    expect(error.extensions).toEqual({ code: LIMIT_ERROR_CODE.RATE_LIMITED, retryAfter: expect.any(Number) })
    expect(error.message).toMatch(new RegExp(`^rate limit of ${LIMIT} operations per ${WINDOW_SECONDS} s exceeded; try again in \\d+ s$`))
    const retryAfter = error.extensions.retryAfter as number
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS)
    expect(refused.retryAfter).toBe(String(retryAfter))
    expect(await bulkCount()).toBe(before)

    // Other callers have limits of their own: no token counts under the client's address.
    const anonymous = await post(first, BULKS, undefined, null)
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED')

    await new Promise(resolve => setTimeout(resolve, retryAfter * 1000))
    const again = await post(first, PLACE_ORDER, { input: order() })
    expect(again.status).toBe(200)
    expect(again.body.data.placeOrder.errors).toBe(false)
    expect(await bulkCount()).toBe(before + 1)
  })

  it('counts a mutation once per root field: ten aliased placeOrders use up the limit, and nothing more runs in that window', async () => {
    // Issue #12, item 8: one hit for fifteen aliases of placeOrders let one request accept fifteen bulks.
    await nextWindow()
    const aliased = 'mutation ($input: [PlaceOrderInput!]!) { ' +
      Array.from({ length: LIMIT }, (_, i) => `a${i}: placeOrders(input: $input) { bulkUuid }`).join(' ') + ' }'
    const taken = await post(first, aliased, { input: [order()] })
    expect(taken.status).toBe(200)
    expect(Object.keys(taken.body.data)).toHaveLength(LIMIT)
    const before = await bulkCount()
    expect((await post(first, aliased, { input: [order()] })).status).toBe(429)
    expect((await post(first, PLACE_ORDER, { input: order() })).status).toBe(429)
    expect(await bulkCount()).toBe(before)
  })

  it('holds across gateway processes: one count in PostgreSQL, however the operations are spread', async () => {
    await nextWindow()
    // Twice the limit at once, half to each gateway: exactly the limit gets through.
    const results = await Promise.all(Array.from({ length: 2 * LIMIT }, async (_, i) => await post(i % 2 === 0 ? first : second, BULKS)))
    const statuses = results.map(result => result.status)
    expect(statuses.filter(status => status === 200)).toHaveLength(LIMIT)
    expect(statuses.filter(status => status === 429)).toHaveLength(LIMIT)
    // Either gateway now refuses this caller, over WebSocket too (no HTTP status there; the same error).
    expect((await post(second, BULKS)).status).toBe(429)
    expect((await post(first, BULKS)).status).toBe(429)
    const overWs = await second.wsClient().iterate({ query: BULKS }).next()
    expect(overWs.value.errors[0].extensions).toEqual({ code: LIMIT_ERROR_CODE.RATE_LIMITED, retryAfter: expect.any(Number) })
  })

  it('counts downloads of results files under the same limit: 429 with Retry-After over it, found or not', async () => {
    const download = async (): Promise<Response> => await fetch(first.httpUrl.replace(/\/graphql$/, '/bulks/00000000-0000-4000-8000-000000000000/results.jsonl'),
      { headers: { authorization: `Bearer ${first.adminToken}` } })
    await nextWindow()
    // Unknown bulks count too, so that uuids cannot be tried faster than the limit.
    for (let i = 0; i < LIMIT; i++) expect((await download()).status).toBe(404)
    const refused = await download()
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.json()).toEqual({
      error: { code: LIMIT_ERROR_CODE.RATE_LIMITED, message: expect.stringMatching(new RegExp(`^rate limit of ${LIMIT} operations per ${WINDOW_SECONDS} s exceeded`)) }
    })
    // One count with GraphQL: the caller's operations are refused in this window as well.
    expect((await post(first, BULKS)).status).toBe(429)
  })

  it('keeps one row per caller: a new window starts the row over and sweeps the rows of callers gone quiet', async () => {
    await first.sql.query('INSERT INTO rate_limit (key, window_start, hits) VALUES (\'ip:192.0.2.1\', now() - interval \'1 day\', 3)')
    await nextWindow()
    expect((await post(first, BULKS)).status).toBe(200)
    // Left: the admin token's row, at its first lease in the new window (an eighth of the limit); the
    // stale row, and the address's row of the anonymous request in an earlier test, were swept.
    const { rows } = await first.sql.query('SELECT key, hits FROM rate_limit')
    expect(rows).toEqual([{ key: expect.not.stringMatching(/^ip:/), hits: Math.ceil(LIMIT / LEASE_SHARE) }])
  })
})
