import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, startGateway, type GraphQLResponse, type TestGateway } from './helpers/gateway.ts'

// Issue 12, item 11: what each role may do, as docs/security.md's matrix says, checked through GraphQL.

type Role = 'customer' | 'integration' | 'admin'
const ROLES: readonly Role[] = ['customer', 'integration', 'admin']
const CUSTOMER_MAX_BULK_SIZE = 3
const NO_UUID = '00000000-0000-4000-8000-000000000000'

let gateway: TestGateway
const tokens = {} as Record<Role, string>
beforeAll(async () => {
  // No workers: what is accepted stays accepted, and nothing here depends on it being processed.
  gateway = await startGateway({ roles: ['gateway'], env: { CUSTOMER_MAX_BULK_SIZE: String(CUSTOMER_MAX_BULK_SIZE) } })
  tokens.customer = await gateway.createToken('shopper', 'CUSTOMER')
  tokens.integration = await gateway.createToken('erp', 'INTEGRATION')
  tokens.admin = await gateway.createToken('ops', 'ADMIN')
})
afterAll(async () => { await gateway?.stop() })

/** A placeOrdersFromFile request (GraphQL multipart request spec) with one order, as `token`. */
async function upload (token: string): Promise<GraphQLResponse> {
  const form = new FormData()
  form.set('operations', JSON.stringify({ query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file) { bulkUuid } }', variables: { file: null } }))
  form.set('map', JSON.stringify({ 0: ['variables.file'] }))
  form.set('0', new Blob([JSON.stringify(order()) + '\n'], { type: 'application/jsonl' }), 'orders.jsonl')
  const response = await fetch(gateway.httpUrl, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1', authorization: `Bearer ${token}` } })
  return await response.json() as GraphQLResponse
}

const orders = (n: number): unknown[] => Array.from({ length: n }, () => order())
const PLACE = 'mutation ($input: PlaceOrderInput!, $url: String) { placeOrder(input: $input, notifyUrl: $url) { bulkUuid } }'
const PLACE_MANY = 'mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid } }'
const CANCEL = 'mutation ($url: String) { cancelOrder(number: "ORD-99999999", notifyUrl: $url) { bulkUuid } }'

/** One operation of the API, as each role may or may not run it. */
interface Probe { readonly what: string, readonly run: (token: string) => Promise<GraphQLResponse>, readonly allowed: readonly Role[] }
const gql = (query: string, variables: Record<string, unknown> = {}) => async (token: string) => await gateway.gql(query, variables, token)
const everyone = ROLES
const integrations = ['integration', 'admin'] as const
const admins = ['admin'] as const

/** docs/security.md#what-each-caller-may-do, row by row. */
const MATRIX: readonly Probe[] = [
  { what: 'bulk', run: gql(`{ bulk(uuid: "${NO_UUID}") { uuid } }`), allowed: everyone },
  { what: 'bulks', run: gql('{ bulks(first: 1) { edges { cursor } } }'), allowed: everyone },
  { what: 'operation', run: gql(`{ operation(id: "${NO_UUID}") { id } }`), allowed: everyone },
  { what: 'order', run: gql('{ order(number: "ORD-99999999") { number } }'), allowed: everyone },
  { what: 'orders', run: gql('{ orders(first: 1) { edges { cursor } } }'), allowed: everyone },
  { what: 'inventory', run: gql('{ inventory(sku: "DEMO-0001") { available } }'), allowed: everyone },
  { what: 'placeOrder', run: gql(PLACE, { input: order() }), allowed: everyone },
  { what: 'placeOrders within CUSTOMER_MAX_BULK_SIZE', run: gql(PLACE_MANY, { input: orders(CUSTOMER_MAX_BULK_SIZE) }), allowed: everyone },
  { what: 'cancelOrder', run: gql(CANCEL), allowed: everyone },
  { what: 'retryBulk', run: gql(`mutation { retryBulk(uuid: "${NO_UUID}") { uuid } }`), allowed: everyone },
  { what: 'cancelBulk', run: gql(`mutation { cancelBulk(uuid: "${NO_UUID}") { uuid } }`), allowed: everyone },
  { what: 'acknowledgeBulk', run: gql(`mutation { acknowledgeBulk(uuid: "${NO_UUID}") { uuid } }`), allowed: everyone },
  { what: 'placeOrders over CUSTOMER_MAX_BULK_SIZE', run: gql(PLACE_MANY, { input: orders(CUSTOMER_MAX_BULK_SIZE + 1) }), allowed: integrations },
  { what: 'placeOrdersFromFile', run: upload, allowed: integrations },
  { what: 'placeOrder with notifyUrl', run: gql(PLACE, { input: order(), url: 'https://example.com/hook' }), allowed: integrations },
  { what: 'cancelOrder with notifyUrl', run: gql(CANCEL, { url: 'https://example.com/hook' }), allowed: integrations },
  { what: 'retryOrder', run: gql('mutation { retryOrder(number: "ORD-99999999") { bulkUuid } }'), allowed: integrations },
  { what: 'placeOrders(mode: IMPORT)', run: gql('mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input, mode: IMPORT) { bulkUuid } }', { input: [order({ orderNumber: 'IMP-1', placedAt: '2020-01-01T00:00:00Z' })] }), allowed: integrations },
  { what: 'adjustStock', run: gql('mutation { adjustStock(input: [{ sku: "DEMO-0001", quantity: 1 }]) { bulkUuid } }'), allowed: admins },
  { what: 'apiTokens', run: gql('{ apiTokens { id } }'), allowed: admins },
  { what: 'createApiToken', run: gql('mutation { createApiToken(owner: "someone", role: CUSTOMER) { id } }'), allowed: admins },
  { what: 'revokeApiToken', run: gql(`mutation { revokeApiToken(id: "${NO_UUID}") { id } }`), allowed: admins }
]

async function bulkRows (): Promise<number> {
  const { rows: [row] } = await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')
  return row.n
}

describe('what each role may do', () => {
  it('follows the matrix: each operation runs for the roles it names, and is FORBIDDEN, writing nothing, for the others', async () => {
    const seen: Record<string, Record<Role, string>> = {}
    const wanted: Record<string, Record<Role, string>> = {}
    for (const probe of MATRIX) {
      seen[probe.what] = {} as Record<Role, string>
      wanted[probe.what] = {} as Record<Role, string>
      for (const role of ROLES) {
        const before = await bulkRows()
        const { errors } = await probe.run(tokens[role])
        const code = errors?.[0]?.extensions?.code
        seen[probe.what]![role] = code === 'FORBIDDEN' ? 'forbidden' : code === undefined || code === 'NOT_FOUND' ? 'allowed' : String(code)
        wanted[probe.what]![role] = (probe.allowed as readonly Role[]).includes(role) ? 'allowed' : 'forbidden'
        if (code === 'FORBIDDEN') expect(await bulkRows(), `${probe.what} as ${role}`).toBe(before)
      }
    }
    expect(seen).toEqual(wanted)
  })

  it('tells a refused caller which capability its role lacks', async () => {
    const tooMany = await gateway.gql(PLACE_MANY, { input: orders(CUSTOMER_MAX_BULK_SIZE + 2) }, tokens.customer)
    expect(tooMany.errors?.[0]).toMatchObject({
      message: `Mutation.placeOrders: a customer caller may send at most ${CUSTOMER_MAX_BULK_SIZE} orders in one bulk (CUSTOMER_MAX_BULK_SIZE), got ${CUSTOMER_MAX_BULK_SIZE + 2}; larger bulks need an integration token`,
      extensions: { code: 'FORBIDDEN' }
    })
    expect((await upload(tokens.customer)).errors?.[0]?.message).toBe('Mutation.placeOrdersFromFile: a customer caller may not upload files; JSONL uploads need an integration token')
    expect((await gateway.gql(PLACE, { input: order(), url: 'https://example.com/hook' }, tokens.customer)).errors?.[0]?.message)
      .toBe('Mutation.placeOrder: a customer caller may not set notifyUrl; webhooks need an integration token')
    expect((await gateway.gql('{ apiTokens { id } }', {}, tokens.integration)).errors?.[0]?.message).toBe('Query.apiTokens: only admins may do this')
  })

  it('lets a customer follow its own bulk to the end, over graphql-ws, and download its results file', async () => {
    const { data } = await gateway.gql(PLACE, { input: order() }, tokens.customer)
    const uuid = data.placeOrder.bulkUuid as string
    const first = await gateway.wsClient(tokens.customer).iterate({ query: 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { uuid status } }', variables: { uuid } }).next()
    expect(first.value).toEqual({ data: { bulkStatus: { uuid, status: 'NOT_STARTED' } } })
    const results = await fetch(gateway.httpUrl.replace(/\/graphql$/, `/bulks/${uuid}/results.jsonl`), { headers: { authorization: `Bearer ${tokens.customer}` } })
    expect(results.status).toBe(200)
    expect((await results.text()).trim().split('\n')).toHaveLength(1)
  })
})
