import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceptOperations, BULK_ERROR_POLICY, type AcceptDeps, type AcceptRequest, type AsyncResponse } from '../src/operations/accept.ts'
import { RequestRejectedError } from '../src/operations/errors.ts'
import { createGroupCommit } from '../src/operations/groupCommit.ts'
import { PLACE_ORDER as PLACEMENT } from '../src/orders/requests/placeOrder.ts'
import { createLogger } from '../src/platform/log.ts'
import { order, PLACE_ORDER, startGateway, type TestGateway } from './helpers/gateway.ts'

// Group commit (issue 17, item 2): concurrent single acceptances share one transaction. Which
// transaction wrote a row is its xmin, so the number of transactions is counted, never timed.

let gateway: TestGateway
let deps: AcceptDeps
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'] })
  const { pool, boss } = gateway.app
  deps = { pool, boss, maxBulkSize: 10, groupCommit: createGroupCommit({ pool, boss, log: createLogger('silent') }) }
})
afterAll(async () => { await gateway.stop() })

function request (overrides: Partial<AcceptRequest> = {}): AcceptRequest {
  return {
    kind: PLACEMENT,
    owner: 'group-owner',
    ownerRole: 'integration',
    viewerOwner: 'group-owner',
    items: [{ data: order() }],
    description: null,
    notifyUrl: null,
    errorPolicy: BULK_ERROR_POLICY.REJECT_FAILED_ROWS,
    idempotencyKey: null,
    ...overrides
  }
}

/** The transactions that wrote these bulks (their distinct xmin), and their jobs. */
async function written (uuids: readonly string[]): Promise<{ bulks: number, transactions: number, jobs: number }> {
  const { rows: [row] } = await gateway.sql.query(`SELECT count(*)::int AS bulks, count(DISTINCT b.xmin::text)::int AS transactions,
      (SELECT count(*)::int FROM operation o JOIN pgboss.job j ON j.id = o.id WHERE o.bulk_uuid = ANY($1::uuid[])) AS jobs
    FROM bulk b WHERE b.uuid = ANY($1::uuid[])`, [uuids])
  return row
}

describe('group commit', () => {
  it('writes single acceptances that arrive while a group is being written in one transaction, and answers each', async () => {
    // The first finds nothing being written and goes alone at once; the seven others arrive while it is written.
    const responses = await Promise.all(Array.from({ length: 8 }, async () => await acceptOperations(deps, request())))
    const uuids = responses.map(r => r.bulkUuid)
    expect(new Set(uuids).size).toBe(8)
    expect(responses.every(r => r.requestItems![0]!.status === 'ACCEPTED' && /^ORD-/.test(r.requestItems![0]!.orderNumber ?? ''))).toBe(true)
    expect(new Set(responses.map(r => r.requestItems![0]!.orderNumber)).size).toBe(8)
    expect(await written(uuids)).toEqual({ bulks: 8, transactions: 2, jobs: 8 })
    expect(await written(uuids.slice(1))).toMatchObject({ transactions: 1 })
  })

  it('answers a request whose idempotency key was used for another payload with its error, and writes the others of its group', async () => {
    const first = await acceptOperations(deps, request({ idempotencyKey: 'group-key' }))
    const attempts = Array.from({ length: 8 }, async (_, i): Promise<AsyncResponse | Error> => {
      const overrides = i === 4
        ? { idempotencyKey: 'group-key', items: [{ data: order({ customerEmail: 'someone-else@example.com' }) }] }
        : i === 5 ? { idempotencyKey: 'group-key' } : { idempotencyKey: `group-key-${i}` }
      return await acceptOperations(deps, request(overrides)).catch((error: Error) => error)
    })
    const results = await Promise.all(attempts)
    const conflict = results[4]
    expect(conflict).toBeInstanceOf(RequestRejectedError)
    expect((conflict as RequestRejectedError).code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect((results[5] as AsyncResponse).bulkUuid).toBe(first.bulkUuid)
    const others = results.filter((_, i) => i !== 4 && i !== 5) as AsyncResponse[]
    expect(others.every(r => r.requestItems![0]!.status === 'ACCEPTED')).toBe(true)
    const uuids = others.map(r => r.bulkUuid)
    expect(await written(uuids)).toEqual({ bulks: 6, transactions: 2, jobs: 6 })
    const { rows: keys } = await gateway.sql.query("SELECT key, bulk_uuid FROM idempotency_key WHERE owner = 'group-owner' ORDER BY key")
    expect(keys).toHaveLength(7)
    expect(keys.find(k => k.key === 'group-key').bulk_uuid).toBe(first.bulkUuid)
  })

  it('writes the others alone when one request of a group fails a constraint, and fails that one only', async () => {
    await gateway.sql.query(`CREATE FUNCTION test_refuse_bulk() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`)
    await gateway.sql.query(`CREATE TRIGGER test_refuse_bulk BEFORE INSERT ON bulk FOR EACH ROW
      WHEN (NEW.description = 'refuse me') EXECUTE FUNCTION test_refuse_bulk()`)
    try {
      const results = await Promise.all(Array.from({ length: 6 }, async (_, i) =>
        await acceptOperations(deps, request({ description: i === 3 ? 'refuse me' : `group ${i}` })).catch((error: Error) => error)))
      expect((results[3] as Error).message).toMatch(/refused by the test/)
      const others = results.filter((_, i) => i !== 3) as AsyncResponse[]
      expect(others.every(r => r.requestItems![0]!.status === 'ACCEPTED')).toBe(true)
      // The first alone; the group of the four others and the refused one failed, so each of the four was written alone.
      expect(await written(others.map(r => r.bulkUuid))).toEqual({ bulks: 5, transactions: 5, jobs: 5 })
      const { rows: [refused] } = await gateway.sql.query("SELECT count(*)::int AS n FROM bulk WHERE description = 'refuse me'")
      expect(refused.n).toBe(0)
    } finally {
      await gateway.sql.query('DROP TRIGGER test_refuse_bulk ON bulk; DROP FUNCTION test_refuse_bulk()')
    }
  })

  it('writes a single order on an idle gateway at once, in a transaction of its own (it waits for no group)', async () => {
    const uuids: string[] = []
    for (let i = 0; i < 3; i++) {
      const { data, errors } = await gateway.gql(PLACE_ORDER, { input: order() })
      expect(errors).toBeUndefined()
      uuids.push(data.placeOrder.bulkUuid)
    }
    expect(await written(uuids)).toEqual({ bulks: 3, transactions: 3, jobs: 3 })
  })

  it('answers concurrent placeOrder requests over HTTP, one of them reusing a key for another payload', async () => {
    const first = await gateway.gql('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input, idempotencyKey: "http-key") { bulkUuid } }', { input: order() })
    expect(first.errors).toBeUndefined()
    const results = await Promise.all(Array.from({ length: 16 }, async (_, i) => i === 7
      ? await gateway.gql('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input, idempotencyKey: "http-key") { bulkUuid } }', { input: order({ customerEmail: 'other@example.com' }) })
      : await gateway.gql(PLACE_ORDER, { input: order() })))
    expect(results[7]!.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED')
    const accepted = results.filter((_, i) => i !== 7)
    expect(accepted.every(r => r.errors === undefined && r.data.placeOrder.requestItems[0].status === 'ACCEPTED')).toBe(true)
    expect(await written(accepted.map(r => r.data.placeOrder.bulkUuid))).toMatchObject({ bulks: 15, jobs: 15 })
  })
})
