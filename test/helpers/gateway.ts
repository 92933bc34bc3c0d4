import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createClient, type Client } from 'graphql-ws'
import pg from 'pg'
import { startApp, type App } from '../../src/app.ts'
import { loadConfig, type Role } from '../../src/config/config.ts'
import { seedDemoCatalog } from '../../src/inventory/seed.ts'
import { createLogger } from '../../src/platform/log.ts'
import { createTestDatabase, testPool, type TestDatabase } from './database.ts'

export interface GraphQLResponse<T = any> {
  data?: T
  errors?: Array<{ message: string, extensions?: Record<string, unknown> }>
}

export interface TestGateway {
  readonly app: App
  readonly db: TestDatabase
  /** A pool on the test database, for assertions on what was (not) written. */
  readonly sql: pg.Pool
  readonly httpUrl: string
  readonly wsUrl: string
  /** DATA_DIR of this gateway: a temporary folder of its own (the outbox, labels, the ERP export file). */
  readonly dataDir: string
  /** The admin token the gateway was started with (ADMIN_TOKEN); requests use it unless told otherwise. */
  readonly adminToken: string
  /** POSTs a GraphQL request over real HTTP, with `token` (default: the admin token; null: none). */
  gql<T = any> (query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>
  /** A graphql-ws client on the gateway's WebSocket endpoint, authenticated with `token` (as gql). */
  wsClient (token?: string | null): Client
  /** Creates an API token through the GraphQL API (as the admin). */
  createToken (owner: string, role?: 'CUSTOMER' | 'INTEGRATION' | 'ADMIN'): Promise<string>
  stop (): Promise<void>
}

export interface GatewayOptions {
  readonly roles?: readonly Role[]
  /** Extra environment variables for loadConfig (JOB_RETRY_LIMIT, MAX_BULK_SIZE, …). */
  readonly env?: Record<string, string>
  /** A database to use instead of a fresh one (it is then not dropped by stop()). */
  readonly db?: TestDatabase
  /** Leave the demo catalog out (default: seeded, as `npm run seed` does, so that orders of DEMO-* SKUs can be placed). */
  readonly withoutCatalog?: boolean
}

/** Starts the real application on a database of its own, listening on a free port of 127.0.0.1. */
export async function startGateway (options: GatewayOptions = {}): Promise<TestGateway> {
  const db = options.db ?? await createTestDatabase()
  // One admin token per database: every gateway and worker started on it ensures the same one (a
  // process started with another ADMIN_TOKEN would retire the first, as rotating the variable does).
  const adminToken = options.env?.ADMIN_TOKEN ?? `test-admin-${db.name}-${'0'.repeat(24)}`
  const ownDataDir = options.env?.DATA_DIR === undefined
  const dataDir = options.env?.DATA_DIR ?? await mkdtemp(path.join(os.tmpdir(), 'gateway-data-'))
  const config = loadConfig({
    ADMIN_TOKEN: adminToken,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DB_POOL_SIZE: '5',
    PGBOSS_POOL_SIZE: '5',
    ...options.env
  }, options.roles ?? ['gateway', 'worker'])
  const app = await startApp(config, createLogger(config.logLevel))
  const sql = testPool(db.url, 3)
  if (options.withoutCatalog !== true) await seedDemoCatalog(sql)
  const httpUrl = app.graphqlUrl?.replace('localhost', '127.0.0.1') ?? ''
  const wsUrl = httpUrl.replace(/^http/, 'ws')
  const clients: Client[] = []
  const gateway: TestGateway = {
    app,
    db,
    sql,
    httpUrl,
    wsUrl,
    dataDir,
    adminToken,
    async gql (query, variables, token = adminToken) {
      const response = await fetch(httpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token !== null ? { authorization: `Bearer ${token}` } : {})
        },
        body: JSON.stringify({ query, variables })
      })
      return await response.json() as GraphQLResponse
    },
    wsClient (token = adminToken) {
      const client = createClient({
        url: wsUrl,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token !== null ? { authorization: `Bearer ${token}` } : {}
      })
      clients.push(client)
      return client
    },
    async createToken (owner, role = 'INTEGRATION') {
      const { data, errors } = await gateway.gql('mutation ($owner: String!, $role: Role!) { createApiToken(owner: $owner, role: $role) { token } }', { owner, role })
      if (!data) throw new Error(JSON.stringify(errors))
      return data.createApiToken.token as string
    },
    async stop () {
      for (const client of clients) await client.dispose()
      await app.stop()
      await sql.end()
      if (!options.db) await db.drop()
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true })
    }
  }
  return gateway
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T> (check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

export function order (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '19.99' }, { sku: 'DEMO-0002', quantity: 1, unitPrice: '5.5' }],
    shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' },
    ...overrides
  }
}

export const PLACE_ORDERS = `mutation ($input: [PlaceOrderInput!]!, $description: String) {
  placeOrders(input: $input, description: $description) { bulkUuid errors requestItems { id dataHash status errorMessage } }
}`

export const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { bulkUuid errors requestItems { id dataHash status errorMessage } }
}`

export const BULK = `query ($uuid: ID!) {
  bulk(uuid: $uuid) {
    uuid description status operationCount progress createdAt startedAt finishedAt
    counts { open complete retriablyFailed notRetriablyFailed rejected }
    operations(first: 1000) { edges { node { id index topic status result errorCode resultMessage attempts } } }
  }
}`

/** Polls `bulk` over HTTP until its status is one of `statuses`. */
export async function waitForBulk (gateway: TestGateway, uuid: string, statuses: readonly string[] = ['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE'], timeoutMs = 30_000): Promise<any> {
  return await eventually(async () => {
    const { data } = await gateway.gql(BULK, { uuid })
    return statuses.includes(data?.bulk?.status) ? data.bulk : undefined
  }, timeoutMs, `bulk ${uuid} to reach ${statuses.join(' or ')}`)
}
