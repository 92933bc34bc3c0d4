import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIMIT_ERROR_CODE } from '../src/api/security/codes.ts'
import { order, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue #12, item 2: the cost limit counted a `first` given as a variable once, so nesting the
// Operation.bulk back-link loaded a page of pages for a tiny cost, and aliases multiplied it.

/** Each operation's bulk's operations: n × n operation rows for a page size of n. */
const NESTED = `query ($uuid: ID!, $n: Int) { bulk(uuid: $uuid) { operations(first: $n) { edges { node { id
  bulk { operations(first: $n) { edges { node { id status } } } } } } } } }`

/** The gateway role alone: the 1,000 operations stay OPEN, and no worker writes while the tables are locked. */
let gateway: TestGateway
let uuid: string
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'] })
  const { data } = await gateway.gql(PLACE_ORDERS, { input: Array.from({ length: 1000 }, () => order()) })
  uuid = data.placeOrders.bulkUuid
  const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM operation WHERE bulk_uuid = $1', [uuid])
  expect(rows[0].n).toBe(1000)
})
afterAll(async () => { await gateway?.stop() })

async function post (query: string, variables: Record<string, unknown>): Promise<{ status: number, body: any }> {
  const response = await fetch(gateway.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${gateway.adminToken}` },
    body: JSON.stringify({ query, variables }),
    // A query that reaches the database waits for the locks below; the test fails after this.
    signal: AbortSignal.timeout(10_000)
  })
  return { status: response.status, body: await response.json() }
}

/**
 * Runs `request` while another connection holds ACCESS EXCLUSIVE locks on every table the query
 * (or its rate-limit hit) would read or write: an answer that comes at all came without a statement.
 */
async function withTablesLocked<T> (request: () => Promise<T>): Promise<T> {
  const locker = await gateway.sql.connect()
  try {
    await locker.query('BEGIN')
    await locker.query('LOCK TABLE operation, bulk, bulk_progress, rate_limit IN ACCESS EXCLUSIVE MODE')
    return await request()
  } finally {
    await locker.query('ROLLBACK')
    locker.release()
  }
}

describe('the cost limit counts pages at their real size', () => {
  it("refuses each operation's bulk's operations with $n = 1000 on a 1,000-operation bulk with QUERY_TOO_COSTLY, before any statement", async () => {
    const { status, body } = await withTablesLocked(async () => await post(NESTED, { uuid, n: 1000 }))
    expect(status).toBe(400)
    expect(body.data).toBeUndefined()
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0].extensions).toMatchObject({ code: LIMIT_ERROR_CODE.QUERY_TOO_COSTLY, maxCost: 100_000 })
    expect(body.errors[0].extensions.cost).toBeGreaterThan(1_000_000)
    expect(body.errors[0].message).toMatch(/^query cost \d+ is over the limit of 100000 \(GRAPHQL_MAX_COST\)/)
  })

  it('takes the same query with a small page, and its answer is the page of pages asked for', async () => {
    const { status, body } = await post(NESTED, { uuid, n: 10 })
    expect(status).toBe(200)
    expect(body.errors).toBeUndefined()
    const edges = body.data.bulk.operations.edges
    expect(edges).toHaveLength(10)
    expect(edges.every((edge: any) => edge.node.bulk.operations.edges.length === 10)).toBe(true)
  })

  it('adds aliases up: fifteen copies of a query that passes alone are refused together, before any statement', async () => {
    const one = 'bulk(uuid: $uuid) { operations(first: $n) { edges { node { id status bulk { uuid } } } } }'
    const alone = await post(`query ($uuid: ID!, $n: Int) { ${one} }`, { uuid, n: 1000 })
    expect(alone.body.errors).toBeUndefined()
    expect(alone.body.data.bulk.operations.edges).toHaveLength(1000)
    const aliased = `query ($uuid: ID!, $n: Int) { ${Array.from({ length: 15 }, (_, i) => `a${i}: ${one}`).join(' ')} }`
    const { status, body } = await withTablesLocked(async () => await post(aliased, { uuid, n: 1000 }))
    expect(status).toBe(400)
    expect(body.errors[0].extensions.code).toBe(LIMIT_ERROR_CODE.QUERY_TOO_COSTLY)
  })

  it('counts a page given as a variable the same as one written in the query', async () => {
    const literal = await post(`query ($uuid: ID!) { bulks(first: 100) { edges { node { operations(first: 1000) { edges { node { id } } } } } }
      bulk(uuid: $uuid) { uuid } }`, { uuid })
    const variable = await post(`query ($uuid: ID!, $b: Int, $n: Int) { bulks(first: $b) { edges { node { operations(first: $n) { edges { node { id } } } } } }
      bulk(uuid: $uuid) { uuid } }`, { uuid, b: 100, n: 1000 })
    expect(literal.body.errors[0].extensions.code).toBe(LIMIT_ERROR_CODE.QUERY_TOO_COSTLY)
    expect(variable.body.errors[0].extensions).toEqual(literal.body.errors[0].extensions)
  })
})
