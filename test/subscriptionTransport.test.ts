import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIMIT_ERROR_CODE } from '../src/api/security/codes.ts'
import { order, PLACE_ORDER, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue #12, item 12: subscriptions run over WebSocket only. Yoga serves them over HTTP as
// Server-Sent Events by default, outside every WebSocket limit; that path is turned off.

const BULK_STATUS = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { uuid status } }'

/** The gateway role alone: accepted orders stay OPEN, so a subscription to their bulk would never complete by itself. */
let gateway: TestGateway
let uuid: string
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'] })
  const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
  uuid = data.placeOrder.bulkUuid
})
afterAll(async () => { await gateway?.stop() })

/** Hits counted for the admin token's key, all windows together. */
async function rateLimitHits (): Promise<number> {
  const { rows } = await gateway.sql.query('SELECT coalesce(sum(hits), 0)::int AS hits FROM rate_limit')
  return rows[0].hits
}

/**
 * Sends `init` and reads the whole answer. An SSE stream that stays open (a subscription being
 * served) is cut after 10 s, which fails the test: a refused subscription's answer ends at once.
 */
async function readAll (url: string, init: RequestInit): Promise<{ status: number, type: string, body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  const body = await response.text()
  return { status: response.status, type: response.headers.get('content-type') ?? '', body }
}

describe('subscriptions over HTTP (Server-Sent Events)', () => {
  it('refuses a subscription POSTed for text/event-stream: the answer ends at once, nothing is watched, no hit is counted', async () => {
    const hits = await rateLimitHits()
    const answer = await readAll(gateway.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${gateway.adminToken}` },
      body: JSON.stringify({ query: BULK_STATUS, variables: { uuid } })
    })
    expect(answer.body).toContain(LIMIT_ERROR_CODE.SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY)
    expect(answer.body).not.toContain('NOT_STARTED')
    expect(gateway.app.watchedBulks()).toBe(0)
    expect(await rateLimitHits()).toBe(hits)
  })

  it('refuses one sent by GET, and one asking for JSON, with the same code; multipart/mixed is no subscription transport either', async () => {
    const query = new URLSearchParams({ query: BULK_STATUS, variables: JSON.stringify({ uuid }) })
    const get = await readAll(`${gateway.httpUrl}?${query.toString()}`, {
      headers: { accept: 'text/event-stream', 'graphql-require-preflight': '1', authorization: `Bearer ${gateway.adminToken}` }
    })
    expect(get.body).toContain(LIMIT_ERROR_CODE.SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY)
    const post = async (accept: string): Promise<{ status: number, type: string, body: string }> => await readAll(gateway.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${gateway.adminToken}` },
      body: JSON.stringify({ query: BULK_STATUS, variables: { uuid } })
    })
    const json = await post('application/graphql-response+json')
    expect(json.status).toBe(400)
    expect(JSON.parse(json.body).errors[0].extensions.code).toBe(LIMIT_ERROR_CODE.SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY)
    // Yoga answers a subscription only as SSE or JSON: multipart/mixed alone is not acceptable (406).
    expect((await post('multipart/mixed')).status).toBe(406)
    expect(gateway.app.watchedBulks()).toBe(0)
  })

  it('still serves the same subscription over WebSocket', async () => {
    const client = gateway.wsClient()
    const first = await client.iterate({ query: BULK_STATUS, variables: { uuid } }).next()
    expect(first.value.data.bulkStatus).toEqual({ uuid, status: 'NOT_STARTED' })
  })

  it('leaves queries and mutations over HTTP as they were, whatever they accept', async () => {
    const answer = await readAll(gateway.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${gateway.adminToken}` },
      body: JSON.stringify({ query: 'query ($uuid: ID!) { bulk(uuid: $uuid) { status } }', variables: { uuid } })
    })
    expect(answer.type).toContain('text/event-stream')
    expect(answer.body).toContain('NOT_STARTED')
  })
})
