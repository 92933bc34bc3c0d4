/**
 * A connection lost during an acceptance's COMMIT: PostgreSQL may have committed it or not, and the
 * gateway cannot tell from the lost connection. It asks on another one (src/operations/commitOutcome.ts),
 * so that a committed acceptance is answered as accepted (a client told "error" would send its
 * orders again, and they would be accepted twice) and one that did not commit is answered with an
 * error and has written nothing. The connection is cut by a TCP proxy between the gateway and
 * PostgreSQL, at the COMMIT (test/helpers/commitCutter.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, PLACE_ORDER, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'
import { createTestDatabase, type TestDatabase } from './helpers/database.ts'
import { startCommitCutter, type CommitCutter } from './helpers/commitCutter.ts'

describe('an acceptance whose connection is lost during its COMMIT', () => {
  let db: TestDatabase
  let cutter: CommitCutter
  let gateway: TestGateway

  beforeAll(async () => {
    db = await createTestDatabase()
    cutter = await startCommitCutter(db.url)
    gateway = await startGateway({ db, roles: ['gateway'], env: { DATABASE_URL: cutter.url } })
  })
  afterAll(async () => {
    await gateway?.stop()
    await cutter?.close()
    await db?.drop()
  })

  async function bulksAndOperations (): Promise<{ bulks: number, operations: number }> {
    const { rows: [row] } = await gateway.sql.query(`SELECT (SELECT count(*)::int FROM bulk) AS bulks,
      (SELECT count(*)::int FROM operation) AS operations`)
    return row
  }

  for (const [what, query, input] of [
    ['a single order (group commit)', PLACE_ORDER, order({ customerEmail: 'single@example.com' })],
    ['a bulk of three (a transaction of its own)', PLACE_ORDERS, [order(), order(), order()]]
  ] as const) {
    it(`answers ${what} as accepted when PostgreSQL committed it, and it is there once`, async () => {
      const before = await bulksAndOperations()
      const cuts = cutter.cuts
      cutter.arm('after-commit')
      const { data, errors } = await gateway.gql(query, { input })
      expect(cutter.cuts).toBe(cuts + 1)
      expect(errors).toBeUndefined()
      const answer = data.placeOrder ?? data.placeOrders
      expect(answer.errors).toBe(false)
      const count = Array.isArray(input) ? input.length : 1
      expect(answer.requestItems.map((item: any) => item.status)).toEqual(Array(count).fill('ACCEPTED'))
      const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM operation WHERE bulk_uuid = $1', [answer.bulkUuid])
      expect(rows[0].n).toBe(count)
      expect(await bulksAndOperations()).toEqual({ bulks: before.bulks + 1, operations: before.operations + count })
      const { rows: jobs } = await gateway.sql.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'order.place' AND data->>'operationId' IN (SELECT id::text FROM operation WHERE bulk_uuid = $1)", [answer.bulkUuid])
      expect(jobs[0].n).toBe(count)
    }, 60_000)

    it(`answers ${what} with an error when PostgreSQL did not commit it, and nothing of it is there`, async () => {
      const before = await bulksAndOperations()
      const cuts = cutter.cuts
      cutter.arm('before-commit')
      const { data, errors } = await gateway.gql(query, { input })
      expect(cutter.cuts).toBe(cuts + 1)
      expect(errors?.length).toBeGreaterThan(0)
      expect(data?.placeOrder ?? data?.placeOrders ?? null).toBeNull()
      expect(await bulksAndOperations()).toEqual(before)
    }, 60_000)
  }

  it('answers as before once the connections are back: the pool replaced the cut ones', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    expect(data.placeOrder.requestItems[0].status).toBe('ACCEPTED')
  })
})
