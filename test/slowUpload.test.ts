import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, PLACE_ORDER, startGateway, type TestGateway } from './helpers/gateway.ts'
import { stalledUpload, upload } from './helpers/upload.ts'

// Issue #12, item 1: a JSONL upload read inside the acceptance transaction held a pooled connection
// for as long as its client took to send it, and the pool had no acquire, statement or
// idle-in-transaction timeout: two slow uploads stalled a gateway with DB_POOL_SIZE=2.

let gateway: TestGateway
let otherToken: string
let otherBulk: string
beforeAll(async () => {
  gateway = await startGateway({
    roles: ['gateway'],
    env: {
      DB_POOL_SIZE: '2',
      UPLOAD_TIMEOUT_SECONDS: '3',
      DB_ACQUIRE_TIMEOUT_MS: '2000',
      DB_STATEMENT_TIMEOUT_MS: '45000',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '50000'
    }
  })
  otherToken = await gateway.createToken('other')
  const { data } = await gateway.gql(PLACE_ORDER, { input: order() }, otherToken)
  otherBulk = data.placeOrder.bulkUuid
})
afterAll(async () => { await gateway?.stop() })

async function bulkCount (): Promise<number> {
  const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')
  return rows[0].n
}

const STATUS = 'query ($uuid: ID!) { bulk(uuid: $uuid) { uuid status } }'

describe('slow uploads hold no database connection', () => {
  it("answers another caller's bulk(uuid) within 2 s while two uploads stall, and accepts nothing of them", async () => {
    const before = await bulkCount()
    const uploads = [stalledUpload(gateway, JSON.stringify(order())), stalledUpload(gateway, JSON.stringify(order()))]
    try {
      await Promise.all(uploads.map(async stalled => await stalled.waiting))
      await sleep(300) // the gateway parses what it took and waits for the rest of the file
      const response = await fetch(gateway.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${otherToken}` },
        body: JSON.stringify({ query: STATUS, variables: { uuid: otherBulk } }),
        signal: AbortSignal.timeout(2000)
      })
      const { data, errors } = await response.json() as any
      expect(errors).toBeUndefined()
      expect(data.bulk).toEqual({ uuid: otherBulk, status: 'NOT_STARTED' })
    } finally {
      for (const stalled of uploads) stalled.abort()
    }
    expect(await bulkCount()).toBe(before)
  })

  it('refuses an upload that has not arrived within UPLOAD_TIMEOUT_SECONDS with UPLOAD_TIMEOUT, and writes nothing', async () => {
    const before = await bulkCount()
    const stalled = stalledUpload(gateway, JSON.stringify(order()))
    try {
      const response = await Promise.race([stalled.response, sleep(20_000).then(() => { throw new Error('no answer within 20 s') })])
      const body = await response.json() as any
      expect(body.errors[0].extensions.code).toBe('UPLOAD_TIMEOUT')
      expect(body.errors[0].message).toContain('UPLOAD_TIMEOUT_SECONDS')
    } finally {
      stalled.abort()
    }
    expect(await bulkCount()).toBe(before)
    // An upload that arrives in time is accepted as ever.
    const { body } = await upload(gateway, JSON.stringify(order()) + '\n')
    expect(body.data.placeOrdersFromFile.requestItems).toEqual([{ id: 0, status: 'ACCEPTED', errorMessage: null }])
    expect(await bulkCount()).toBe(before + 1)
  })
})

describe('the pool is bounded', () => {
  it("sets PostgreSQL's statement and idle-in-transaction timeouts on the gateway's connections", async () => {
    const { rows: [statement] } = await gateway.app.pool.query('SHOW statement_timeout')
    const { rows: [idle] } = await gateway.app.pool.query('SHOW idle_in_transaction_session_timeout')
    expect(statement.statement_timeout).toBe('45s')
    expect(idle.idle_in_transaction_session_timeout).toBe('50s')
  })

  it('answers with an error, instead of waiting without end, when no connection comes free within DB_ACQUIRE_TIMEOUT_MS', async () => {
    const held = [await gateway.app.pool.connect(), await gateway.app.pool.connect()]
    try {
      const response = await fetch(gateway.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${otherToken}` },
        body: JSON.stringify({ query: STATUS, variables: { uuid: otherBulk } }),
        signal: AbortSignal.timeout(20_000)
      })
      const body = await response.json() as any
      expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })
    } finally {
      for (const client of held) client.release()
    }
    const { data } = await gateway.gql(STATUS, { uuid: otherBulk }, otherToken)
    expect(data.bulk.uuid).toBe(otherBulk)
  })
})
