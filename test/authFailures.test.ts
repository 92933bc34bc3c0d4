import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'
import { AuthFailures, clientKeyOf } from '../src/api/auth/failures.ts'
import { LIMIT_ERROR_CODE } from '../src/api/security/codes.ts'
import { eventually, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 12, item 5: failed authentication is counted per client address, refused early once over
// the limit, and unknown tokens are remembered, so that bad bearers cost the database nothing.

const LIMIT = 10
const WINDOW_SECONDS = 30
const BULKS = '{ bulks(first: 1) { edges { cursor } } }'

let gateway: TestGateway
/** On the test database, for its index statistics; on the server's admin database, for the rest (so that reading counts nothing). */
let stats: pg.Client
let server: pg.Client
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'], env: { AUTH_FAILURES_PER_MINUTE: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) } })
  stats = new pg.Client({ connectionString: gateway.db.url, application_name: 'test:stats' })
  await stats.connect()
  server = new pg.Client({ connectionString: inject('adminDatabaseUrl'), application_name: 'test:stats' })
  await server.connect()
})
afterAll(async () => {
  await stats?.end()
  await server?.end()
  await gateway?.stop()
})

const bogus = (): string => `oog_${randomBytes(32).toString('base64url')}`

async function post (token: string): Promise<{ status: number, retryAfter: string | null, body: any }> {
  const response = await fetch(gateway.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: BULKS })
  })
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() }
}

async function results (token: string): Promise<Response> {
  return await fetch(gateway.httpUrl.replace(/\/graphql$/, '/bulks/00000000-0000-4000-8000-000000000000/results.jsonl'), { headers: { authorization: `Bearer ${token}` } })
}

/** The close code of a graphql-ws connection whose connection_init carries `token`. */
async function wsClose (token: string): Promise<number> {
  try {
    for await (const _ of gateway.wsClient(token).iterate({ query: BULKS })) return 0
    return 0
  } catch (error) {
    return (error as { code?: number }).code ?? -1
  }
}

/** The HTTP status a WebSocket upgrade gets (101 when it is accepted), with its Retry-After. */
async function upgrade (): Promise<{ status: number, retryAfter: string | undefined }> {
  return await new Promise((resolve, reject) => {
    const socket = new WebSocket(gateway.wsUrl, 'graphql-transport-ws')
    socket.once('open', () => { socket.close(); resolve({ status: 101, retryAfter: undefined }) })
    socket.once('unexpected-response', (request, response) => {
      resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] })
      request.destroy()
    })
    socket.once('error', reject)
  })
}

/**
 * What PostgreSQL counted for the test database: its transactions (each statement of the gateway's
 * outside a transaction is one), and the scans of api_token's token_hash index (one per token
 * lookup). The reading itself adds one transaction.
 */
async function counters (): Promise<{ transactions: number, lookups: number }> {
  const { rows: [{ lookups }] } = await stats.query("SELECT idx_scan::int AS lookups FROM pg_stat_user_indexes WHERE indexrelname = 'api_token_token_hash_key'")
  const { rows: [{ transactions }] } = await server.query('SELECT (xact_commit + xact_rollback)::int AS transactions FROM pg_stat_database WHERE datname = $1', [gateway.db.name])
  return { transactions, lookups }
}

/** Waits for the start of a failed-authentication window, so that what follows falls in one. */
async function nextWindow (): Promise<void> {
  const windowMs = WINDOW_SECONDS * 1000
  await new Promise(resolve => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 50))
}

describe('client keys', () => {
  it('counts an IPv4 address as itself, also IPv4-mapped, and an IPv6 address by its /64', () => {
    expect(clientKeyOf('203.0.113.7')).toBe('203.0.113.7')
    expect(clientKeyOf('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(clientKeyOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(clientKeyOf('2001:db8:1:2::99')).toBe(clientKeyOf('2001:0db8:0001:0002:ffff::1'))
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(clientKeyOf(undefined)).toBe('unknown')
  })

  it('refuses a client once it has used up its failures, until its window ends', () => {
    let now = 60_000
    const failures = new AuthFailures({ limit: 2, windowSeconds: 60, now: () => now })
    failures.record('192.0.2.1')
    expect(failures.retryAfter('192.0.2.1')).toBeNull()
    failures.record('::ffff:192.0.2.1')
    expect(failures.retryAfter('192.0.2.1')).toBe(60)
    expect(failures.retryAfter('192.0.2.2')).toBeNull()
    now += 59_500
    expect(failures.retryAfter('192.0.2.1')).toBe(1)
    now += 500
    expect(failures.retryAfter('192.0.2.1')).toBeNull()
  })
})

describe('failed authentication', () => {
  it('answers 401 up to the limit, then 429 with Retry-After over HTTP, the results file and WebSocket, and looks none of those up', async () => {
    // Tokens that authenticated before the flood, and one that never did.
    const [ops, quiet, leaving, unused] = [await gateway.createToken('ops'), await gateway.createToken('quiet'), await gateway.createToken('leaving'), await gateway.createToken('unused')]
    for (const token of [ops, quiet, leaving]) expect((await post(token)).status).toBe(200)

    await nextWindow()
    const before = await counters()
    // The same unknown token, over HTTP, the results route and connection_init: one budget, one lookup.
    const wrong = bogus()
    for (let i = 0; i < 4; i++) expect((await post(wrong)).body.errors[0].extensions.code).toBe('UNAUTHENTICATED')
    expect((await results(wrong)).status).toBe(401)
    expect(await wsClose(wrong)).toBe(4403)
    // Distinct tokens: each a lookup, until the limit; then refused without one.
    const answers = []
    for (let i = 0; i < 200; i++) answers.push(await post(bogus()))
    expect(answers.slice(0, LIMIT - 6).map(answer => answer.status)).toEqual(Array(LIMIT - 6).fill(401))
    const refused = answers.slice(LIMIT - 6)
    expect(refused.map(answer => answer.status)).toEqual(Array(refused.length).fill(429))
    const [first] = refused
    expect(first!.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/^too many failed authentications from this address \(more than 10 per 30 s\); try again in \d+ s$/),
      extensions: { code: LIMIT_ERROR_CODE.RATE_LIMITED, retryAfter: expect.any(Number) }
    })
    const retryAfter = first!.body.errors[0].extensions.retryAfter as number
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS)
    expect(first!.retryAfter).toBe(String(retryAfter))

    const download = await results(bogus())
    expect(download.status).toBe(429)
    expect(Number(download.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await download.json()).error.code).toBe(LIMIT_ERROR_CODE.RATE_LIMITED)
    const socket = await upgrade()
    expect(socket.status).toBe(429)
    expect(Number(socket.retryAfter)).toBeGreaterThanOrEqual(1)

    // Callers of this address that authenticated lately go on: from the cache, and still when a token
    // change (its NOTIFY) has emptied the cache, looked up. A token never used from here waits.
    expect((await post(ops)).status).toBe(200)
    await gateway.sql.query("UPDATE api_token SET revoked_at = now() WHERE owner = 'leaving'")
    // Until the revocation's NOTIFY arrives, each try of the revoked token is a token that authenticated
    // lately, so it is looked up: as many lookups as tries (their number depends on the machine's load).
    let leavingTries = 0
    await eventually(async () => { leavingTries++; return (await post(leaving)).status === 429 ? true : undefined }, 10_000, 'the revoked token to be refused')
    expect((await post(quiet)).status).toBe(200)
    expect((await post(ops)).status).toBe(200)
    expect((await post(unused)).status).toBe(429)

    // Stopping the gateway makes its backends flush their statistics.
    await gateway.app.stop()
    await eventually(async () => {
      const { rows: [row] } = await server.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'order-ops-gateway%'", [gateway.db.name])
      return row.n === 0 ? true : undefined
    }, 10_000, 'the gateway\'s connections to close')
    const after = await counters()
    // At least one lookup for the repeated token and LIMIT - 6 for the distinct ones before the limit; then a
    // few for the known tokens after the revocation emptied the cache (how many depends on when its NOTIFY
    // arrives and on the cache's refreshes): none for the 196 refused, which would be 196 more.
    expect(after.lookups - before.lookups).toBeGreaterThanOrEqual(1 + (LIMIT - 6))
    expect(after.lookups - before.lookups).toBeLessThan(1 + (LIMIT - 6) + leavingTries + refused.length / 4)
  })
})
