import { randomBytes } from 'node:crypto'
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDER, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

/**
 * Issue 15, part 5: who did what. Bulk.kind for every caller; Bulk.owner and Bulk.createdBy for
 * admins; bulks(owner:, kind:); cancelOrders and retryOrders, a bulk of N beside the single forms.
 */
const ISSUER = 'https://id.example.com/'
const AUDIENCE = 'order-ops-gateway'
const SECRET = randomBytes(32).toString('hex')
/** An HS256 JWT for `sub`, valid for 5 minutes, signed with node:crypto as the issuer would. */
function jwt (sub: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 })}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

const WHO = 'query ($uuid: ID!) { bulk(uuid: $uuid) { kind owner createdBy } }'
const KIND = 'query ($uuid: ID!) { bulk(uuid: $uuid) { kind } }'
const BULKS = 'query ($owner: String, $kind: BulkKind) { bulks(first: 100, owner: $owner, kind: $kind) { edges { node { uuid kind } } } }'
const CANCEL_ORDERS = `mutation ($numbers: [String!]!, $policy: BulkErrorPolicy) {
  cancelOrders(numbers: $numbers, errorPolicy: $policy) { bulkUuid errors requestItems { id status orderNumber errorMessage } } }`
const RETRY_ORDERS = `mutation ($numbers: [String!]!) {
  retryOrders(numbers: $numbers) { bulkUuid errors requestItems { id status orderNumber errorMessage } } }`
const CREATE_TOKEN = 'mutation ($owner: String!) { createApiToken(owner: $owner, role: INTEGRATION) { token id } }'

let gateway: TestGateway
let acme: { token: string, id: string }
beforeAll(async () => {
  // The carrier answers after 3 s, so that an order placed here is still open (not shipped, not
  // completed) when a test cancels it, however fast the machine runs the steps before shipping.
  gateway = await startGateway({ env: { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET: SECRET, CARRIER_LATENCY_MS: '3000' } })
  const { data } = await gateway.gql(CREATE_TOKEN, { owner: 'acme' })
  acme = data.createApiToken
})
afterAll(async () => { await gateway.stop() })

async function placeMany (token: string, n: number): Promise<{ uuid: string, numbers: string[] }> {
  const { data, errors } = await gateway.gql(`mutation ($input: [PlaceOrderInput!]!) {
    placeOrders(input: $input) { bulkUuid requestItems { orderNumber } } }`, { input: Array.from({ length: n }, () => order()) }, token)
  expect(errors).toBeUndefined()
  return { uuid: data.placeOrders.bulkUuid, numbers: data.placeOrders.requestItems.map((item: any) => item.orderNumber) }
}

describe('Bulk.owner, Bulk.createdBy and Bulk.kind', () => {
  it('shows admins the owner and the API token that created a bulk; its owner sees the kind and is refused the rest', async () => {
    const { uuid } = await placeMany(acme.token, 1)
    const admin = await gateway.gql(WHO, { uuid })
    expect(admin.errors).toBeUndefined()
    expect(admin.data.bulk).toEqual({ kind: 'PLACEMENT', owner: 'acme', createdBy: `token:${acme.id}` })

    const own = await gateway.gql(WHO, { uuid }, acme.token)
    expect(own.data.bulk).toEqual({ kind: 'PLACEMENT', owner: null, createdBy: null })
    expect(own.errors?.map(error => [error.extensions?.code, (error as any).path.join('.')]).sort()).toEqual([
      ['FORBIDDEN', 'bulk.createdBy'], ['FORBIDDEN', 'bulk.owner']
    ])
    expect((await gateway.gql(KIND, { uuid }, acme.token)).errors).toBeUndefined()
  })

  it("records a JWT caller's subject", async () => {
    const token = jwt('user-42')
    const { data, errors } = await gateway.gql(PLACE_ORDER, { input: order() }, token)
    expect(errors).toBeUndefined()
    const admin = await gateway.gql(WHO, { uuid: data.placeOrder.bulkUuid })
    expect(admin.data.bulk).toEqual({ kind: 'PLACEMENT', owner: 'jwt:user-42', createdBy: 'jwt:user-42' })
  })

  it("records the admin token's own id for an admin's bulk", async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order()] })
    const { data: who } = await gateway.gql(WHO, { uuid: data.placeOrders.bulkUuid })
    expect(who.bulk.owner).toBe('admin')
    expect(who.bulk.createdBy).toMatch(/^token:/)
  })
})

describe('bulks(owner:, kind:)', () => {
  it("lists one owner's bulks to an admin, and never another owner's to anyone else", async () => {
    const other = await gateway.createToken('globex')
    const mine = await placeMany(acme.token, 1)
    const theirs = await placeMany(other, 1)
    const uuids = async (variables: Record<string, unknown>, token?: string): Promise<string[]> => {
      const { data, errors } = await gateway.gql(BULKS, variables, token)
      expect(errors).toBeUndefined()
      return data.bulks.edges.map((edge: any) => edge.node.uuid)
    }
    const acmes = await uuids({ owner: 'acme' })
    expect(acmes).toContain(mine.uuid)
    expect(acmes).not.toContain(theirs.uuid)
    expect(await uuids({ owner: 'globex' })).toEqual([theirs.uuid])
    // A caller who is not an admin sees only its own, whatever owner it names.
    expect(await uuids({ owner: 'globex' }, acme.token)).toEqual([])
    expect(await uuids({ owner: 'acme' }, acme.token)).toContain(mine.uuid)
    expect(await uuids({ owner: 'nobody' })).toEqual([])
  })
})

describe('cancelOrders and retryOrders', () => {
  it('cancels many orders as one CANCELLATION bulk, rejecting a number that names no order of the caller', async () => {
    const placed = await placeMany(acme.token, 3)
    const foreign = (await placeMany(await gateway.createToken('initech'), 1)).numbers[0]
    const { data, errors } = await gateway.gql(CANCEL_ORDERS, { numbers: [placed.numbers[0], placed.numbers[2], foreign] }, acme.token)
    expect(errors).toBeUndefined()
    expect(data.cancelOrders.errors).toBe(true)
    expect(data.cancelOrders.requestItems).toEqual([
      { id: 0, status: 'ACCEPTED', orderNumber: placed.numbers[0], errorMessage: null },
      { id: 1, status: 'ACCEPTED', orderNumber: placed.numbers[2], errorMessage: null },
      { id: 2, status: 'REJECTED', orderNumber: null, errorMessage: `no order ${foreign}` }
    ])
    const uuid = data.cancelOrders.bulkUuid
    expect((await gateway.gql(KIND, { uuid }, acme.token)).data.bulk.kind).toBe('CANCELLATION')
    const bulk = await waitForBulk(gateway, uuid)
    expect(bulk.counts).toMatchObject({ complete: 2, rejected: 1 })
    const statuses = await eventually(async () => {
      const views = await Promise.all(placed.numbers.map(async (number) =>
        (await gateway.gql('query ($n: String!) { order(number: $n) { status } }', { n: number }, acme.token)).data?.order?.status))
      return views[0] === 'CANCELED' && views[2] === 'CANCELED' ? views : undefined
    }, 30_000, 'the two orders canceled')
    expect(statuses[1]).not.toBe('CANCELED')

    const listed = await gateway.gql(BULKS, { kind: 'CANCELLATION' }, acme.token)
    expect(listed.data.bulks.edges.map((edge: any) => edge.node.uuid)).toEqual([uuid])
  })

  it('writes nothing for an empty list or a malformed number', async () => {
    const before = (await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n
    const empty = await gateway.gql(CANCEL_ORDERS, { numbers: [] }, acme.token)
    expect(empty.errors?.[0]?.extensions?.code).toBe('EMPTY_BULK')
    const long = await gateway.gql(RETRY_ORDERS, { numbers: ['x'.repeat(41)] }, acme.token)
    expect(long.errors?.[0]?.message).toMatch(/numbers/)
    expect((await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n).toBe(before)
  })

  it('retries many orders as one RETRY bulk, one operation per order', async () => {
    const placed = await placeMany(acme.token, 2)
    await waitForBulk(gateway, placed.uuid)
    const { data, errors } = await gateway.gql(RETRY_ORDERS, { numbers: placed.numbers }, acme.token)
    expect(errors).toBeUndefined()
    expect(data.retryOrders.requestItems.map((item: any) => [item.status, item.orderNumber])).toEqual(placed.numbers.map(n => ['ACCEPTED', n]))
    const bulk = await waitForBulk(gateway, data.retryOrders.bulkUuid)
    expect(bulk.operationCount).toBe(2)
    expect(bulk.operations.edges.map((edge: any) => edge.node.topic)).toEqual(['order.retry', 'order.retry'])
    // Each ran as retryOrder does: an order with nothing given up answers an empty list, a completed one ORDER_COMPLETED.
    for (const { node } of bulk.operations.edges) {
      expect(node.status === 'COMPLETE' ? node.result.retried : node.errorCode).toEqual(node.status === 'COMPLETE' ? [] : 'ORDER_COMPLETED')
    }
    expect((await gateway.gql(KIND, { uuid: data.retryOrders.bulkUuid })).data.bulk.kind).toBe('RETRY')
  })
})
