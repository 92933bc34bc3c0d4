import type { Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../src/config/config.ts'
import { LIMIT_ERROR_CODE, WS_CLOSE_CODE } from '../src/api/security/codes.ts'
import { order, PLACE_ORDER, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 5, "Limits against hostile or broken clients". Every hostile request is sent over real
// HTTP or WebSocket and must change nothing: rows are counted before and after.

/** Defaults, gateway role only: accepted orders stay OPEN, so subscriptions to their bulk stay open. */
let gateway: TestGateway
/** Small limits, to reach them cheaply. */
let small: TestGateway
beforeAll(async () => {
  [gateway, small] = await Promise.all([
    startGateway({ roles: ['gateway'] }),
    startGateway({
      roles: ['gateway'],
      env: {
        MAX_BODY_BYTES: '65536',
        MAX_UPLOAD_BYTES: '16384',
        GRAPHQL_BATCHING: '2',
        WS_MAX_MESSAGE_BYTES: '4096',
        WS_MAX_SUBSCRIPTIONS: '2',
        WS_IDLE_TIMEOUT_SECONDS: '1',
        WS_KEEPALIVE_SECONDS: '1'
      }
    })
  ])
})
afterAll(async () => {
  await Promise.all([gateway?.stop(), small?.stop()])
})

/**
 * A raw HTTP request to the GraphQL endpoint, with the gateway's token: for what the helper's
 * gql() hides (status, headers) or cannot send (bad bodies, other content types).
 */
async function send (target: TestGateway, init: RequestInit & { headers?: Record<string, string> }, path = ''): Promise<Response> {
  return await fetch(target.httpUrl + path, {
    method: 'POST',
    ...init,
    headers: { authorization: `Bearer ${target.adminToken}`, ...init.headers }
  })
}

async function postJson (target: TestGateway, body: unknown): Promise<Response> {
  return await send(target, {
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

async function rowCounts (target: TestGateway): Promise<{ bulks: number, operations: number, jobs: number }> {
  const { rows: [row] } = await target.sql.query(`SELECT
    (SELECT count(*) FROM bulk)::int AS bulks,
    (SELECT count(*) FROM operation)::int AS operations,
    (SELECT count(*) FROM pgboss.job)::int AS jobs`)
  return row
}

/** Runs `hostile` and checks that it wrote nothing. */
async function writesNothing<T> (target: TestGateway, hostile: () => Promise<T>): Promise<T> {
  const before = await rowCounts(target)
  const result = await hostile()
  expect(await rowCounts(target)).toEqual(before)
  return result
}

function errorCodes (body: any): unknown[] {
  return (body.errors ?? []).map((error: any) => error.extensions?.code)
}

const ORDER_LITERAL = '{ customerEmail: "ada@example.com", currency: "EUR", items: [{ sku: "A", quantity: 1, unitPrice: "1.00" }], ' +
  'shippingAddress: { name: "Ada", street: "Main Street 1", city: "Berlin", postcode: "10115", country: "DE" } }'

describe('query limits (GraphQL Armor)', () => {
  it('refuses a query deeper than GRAPHQL_MAX_DEPTH, before it runs: a deep cancelBulk cancels nothing', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    const uuid = data.placeOrder.bulkUuid
    const deep = `mutation { cancelBulk(uuid: "${uuid}") { operations { edges { node { bulk { operations { edges { node {
      bulk { operations { edges { node { id } } } } } } } } } } } } }`
    const response = await writesNothing(gateway, async () => await postJson(gateway, { query: deep }))
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(errorCodes(body)).toEqual([LIMIT_ERROR_CODE.QUERY_TOO_DEEP])
    expect(body.errors[0].message).toBe('Query depth limit of 10 exceeded, found 13.')
    expect(body.data).toBeUndefined()
    const { rows } = await gateway.sql.query('SELECT status FROM operation WHERE bulk_uuid = $1', [uuid])
    expect(rows).toEqual([{ status: 'OPEN' }])
  })

  it('refuses more aliases than GRAPHQL_MAX_ALIASES: sixteen placeOrder aliases place nothing', async () => {
    const aliased = 'mutation ($input: PlaceOrderInput!) { ' +
      Array.from({ length: 16 }, (_, i) => `a${i}: placeOrder(input: $input) { bulkUuid }`).join(' ') + ' }'
    const response = await writesNothing(gateway, async () => await postJson(gateway, { query: aliased, variables: { input: order() } }))
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(errorCodes(body)).toEqual([LIMIT_ERROR_CODE.TOO_MANY_ALIASES])
    expect(body.errors[0].message).toBe('Aliases limit of 15 exceeded, found 16.')
  })

  it('refuses more directives than GRAPHQL_MAX_DIRECTIVES', async () => {
    const fields = Array.from({ length: 21 }, () => 'bulkUuid @include(if: true)').join(' ')
    const query = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { ${fields} } }`
    const response = await writesNothing(gateway, async () => await postJson(gateway, { query, variables: { input: order() } }))
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(errorCodes(body)).toEqual([LIMIT_ERROR_CODE.TOO_MANY_DIRECTIVES])
    expect(body.errors[0].message).toBe('Directives limit of 20 exceeded, found 21.')
  })

  it('refuses a document of more than GRAPHQL_MAX_TOKENS tokens while parsing: orders inline in the query', async () => {
    // About 45 tokens an order: 60 orders are over 2000.
    const query = `mutation { placeOrders(input: [${Array.from({ length: 60 }, () => ORDER_LITERAL).join(', ')}]) { bulkUuid } }`
    const response = await writesNothing(gateway, async () => await postJson(gateway, { query }))
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(errorCodes(body)).toEqual([LIMIT_ERROR_CODE.TOO_MANY_TOKENS])
    expect(body.errors[0].message).toBe('Token limit of 2000 exceeded.')
  })

  it('refuses a query costlier than GRAPHQL_MAX_COST: every operation of a hundred bulks', async () => {
    const query = '{ bulks(first: 100) { edges { node { uuid operations(first: 1000) { edges { node { id status result } } } } } } }'
    const response = await postJson(gateway, { query })
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(errorCodes(body)).toEqual([LIMIT_ERROR_CODE.QUERY_TOO_COSTLY])
    expect(body.errors[0].message).toMatch(/^query cost \d+ is over the limit of 100000 \(GRAPHQL_MAX_COST\)/)
  })

  it('counts the document, not the variables: a large bulk sent as variables passes every limit', async () => {
    const input = Array.from({ length: 5000 }, (_, i) => order({ customerEmail: `buyer${i}@example.com` }))
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input })
    expect(errors).toBeUndefined()
    expect(data.placeOrders.requestItems).toHaveLength(5000)
    // And the default body limit leaves room for the largest bulk, 100,000 orders, as JSON.
    const largest = JSON.stringify({ query: PLACE_ORDERS, variables: { input: Array.from({ length: 100_000 }, () => order()) } })
    expect(Buffer.byteLength(largest)).toBeLessThan(loadConfig({}).limits.maxBodyBytes)
  })

  it('gives parse and validation errors a stable code', async () => {
    const syntax = await (await postJson(gateway, { query: 'mutation { placeOrder(' })).json() as any
    expect(errorCodes(syntax)).toEqual([LIMIT_ERROR_CODE.PARSE_FAILED])
    const unknown = await (await postJson(gateway, { query: '{ bulks { nope } }' })).json() as any
    expect(errorCodes(unknown)).toEqual([LIMIT_ERROR_CODE.VALIDATION_FAILED])
  })
})

describe('HTTP requests', () => {
  it('masks unexpected errors: a stable code, and nothing of the database', async () => {
    await small.sql.query(`CREATE FUNCTION refuse_bulk () RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'secret detail of table bulk'; END $$`)
    await small.sql.query('CREATE TRIGGER refuse_bulk BEFORE INSERT ON bulk FOR EACH ROW EXECUTE FUNCTION refuse_bulk()')
    try {
      const response = await writesNothing(small, async () => await postJson(small, { query: PLACE_ORDER, variables: { input: order() } }))
      const text = await response.text()
      expect(text).not.toMatch(/secret|bulk/)
      expect(JSON.parse(text).errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })])
    } finally {
      await small.sql.query('DROP TRIGGER refuse_bulk ON bulk')
      await small.sql.query('DROP FUNCTION refuse_bulk')
    }
  })

  it('refuses a batch (a JSON array of operations) unless GRAPHQL_BATCHING allows it', async () => {
    const batch = [{ query: PLACE_ORDER, variables: { input: order() } }, { query: PLACE_ORDER, variables: { input: order() } }]
    const refused = await writesNothing(gateway, async () => await postJson(gateway, batch))
    expect(refused.status).toBe(400)
    const body = await refused.json() as any
    expect(body.errors[0]).toMatchObject({ message: 'Batching is not supported.', extensions: { code: 'BAD_REQUEST' } })

    // GRAPHQL_BATCHING=2: two run, three are refused.
    const allowed = await postJson(small, batch)
    expect(allowed.status).toBe(200)
    const results = await allowed.json() as any[]
    expect(results.map(result => result.data.placeOrder.errors)).toEqual([false, false])
    const tooMany = await writesNothing(small, async () => await postJson(small, [...batch, batch[0]]))
    expect(tooMany.status).toBe(413)
  })

  it('refuses a body that is not JSON, saying so', async () => {
    const response = await writesNothing(gateway, async () => await postJson(gateway, '{"query": "mutation { placeOrder(input: {'))
    expect(response.status).toBe(400)
    const body = await response.json() as any
    expect(body.errors[0]).toMatchObject({ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } })
  })

  it('refuses content types a browser sends cross-site without the preflight header (CSRF), and others it cannot read', async () => {
    const query = JSON.stringify({ query: PLACE_ORDER, variables: { input: order() } })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await writesNothing(gateway, async () => await send(gateway, { headers: { 'content-type': type }, body: query }))
      expect(response.status).toBe(403)
      const body = await response.json() as any
      expect(body.errors[0].extensions.code).toBe(LIMIT_ERROR_CODE.CSRF_HEADER_MISSING)
      expect(body.errors[0].message).toContain(`content-type ${type}`)
      expect(body.errors[0].message).toContain('graphql-require-preflight')
    }
    // With the header, text/plain is still no GraphQL request.
    const plain = await writesNothing(gateway, async () => await send(gateway, {
      headers: { 'content-type': 'text/plain', 'graphql-require-preflight': '1' }, body: query
    }))
    expect(plain.status).toBe(415)
    const xml = await writesNothing(gateway, async () => await send(gateway, { headers: { 'content-type': 'application/xml' }, body: '<query/>' }))
    expect(xml.status).toBe(415)
  })

  it('refuses a multipart upload without the CSRF header, and takes it with the header', async () => {
    const upload = (): FormData => {
      const form = new FormData()
      form.set('operations', JSON.stringify({ query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file) { bulkUuid errors } }', variables: { file: null } }))
      form.set('map', JSON.stringify({ 0: ['variables.file'] }))
      form.set('0', new Blob([JSON.stringify(order()) + '\n'], { type: 'application/jsonl' }), 'orders.jsonl')
      return form
    }
    const refused = await writesNothing(gateway, async () => await send(gateway, { body: upload() }))
    expect(refused.status).toBe(403)
    expect(errorCodes(await refused.json())).toEqual([LIMIT_ERROR_CODE.CSRF_HEADER_MISSING])
    const taken = await send(gateway, { body: upload(), headers: { 'graphql-require-preflight': '1' } })
    expect(taken.status).toBe(200)
    expect((await taken.json() as any).data.placeOrdersFromFile.errors).toBe(false)
  })

  it('answers a body over MAX_BODY_BYTES with 413 and writes nothing, whether its length is declared or not', async () => {
    const input = Array.from({ length: 400 }, () => order())
    const body = JSON.stringify({ query: PLACE_ORDERS, variables: { input } })
    expect(body.length).toBeGreaterThan(65536)
    const declared = await writesNothing(small, async () => await postJson(small, body))
    expect(declared.status).toBe(413)
    const error = (await declared.json() as any).errors[0]
    expect(error.extensions.code).toBe(LIMIT_ERROR_CODE.REQUEST_TOO_LARGE)
    expect(error.message).toContain('MAX_BODY_BYTES')

    // Chunked, without Content-Length: counted as it streams.
    const chunks = new TextEncoder().encode(body)
    const streamed = await writesNothing(small, async () => await send(small, {
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: new ReadableStream({
        start (controller) {
          for (let at = 0; at < chunks.length; at += 8192) controller.enqueue(chunks.slice(at, at + 8192))
          controller.close()
        }
      }),
      duplex: 'half'
    } as RequestInit & { headers: Record<string, string> }))
    expect(streamed.status).toBe(413)
    expect(errorCodes(await streamed.json())).toEqual([LIMIT_ERROR_CODE.REQUEST_TOO_LARGE])

    // Under the limit, the same gateway takes it.
    const { data } = await small.gql(PLACE_ORDERS, { input: input.slice(0, 50) })
    expect(data.placeOrders.requestItems).toHaveLength(50)
  })

  it('answers an upload over MAX_UPLOAD_BYTES with 413 and writes nothing', async () => {
    const form = new FormData()
    form.set('operations', JSON.stringify({ query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file) { bulkUuid } }', variables: { file: null } }))
    form.set('map', JSON.stringify({ 0: ['variables.file'] }))
    form.set('0', new Blob([Array.from({ length: 100 }, () => JSON.stringify(order())).join('\n')]), 'orders.jsonl')
    const response = await writesNothing(small, async () => await send(small, { body: form, headers: { 'graphql-require-preflight': '1' } }))
    expect(response.status).toBe(413)
    const error = (await response.json() as any).errors[0]
    expect(error.extensions.code).toBe(LIMIT_ERROR_CODE.REQUEST_TOO_LARGE)
    expect(error.message).toContain('MAX_UPLOAD_BYTES')
  })
})

describe('introspection and GraphiQL', () => {
  const INTROSPECTION = '{ __schema { queryType { name } } }'
  const TYPE = '{ __type(name: "Bulk") { name fields { name } } }'

  async function graphiqlPage (target: TestGateway): Promise<Response> {
    return await fetch(target.httpUrl, { headers: { accept: 'text/html' } })
  }

  it('are on outside production (the default for development and tests)', async () => {
    expect((await gateway.gql(INTROSPECTION)).data).toEqual({ __schema: { queryType: { name: 'Query' } } })
    const page = await graphiqlPage(gateway)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
  })

  it('are off with NODE_ENV=production, over HTTP and WebSocket, unless turned on', async () => {
    const production = await startGateway({ roles: ['gateway'], env: { NODE_ENV: 'production' } })
    const enabled = await startGateway({ roles: ['gateway'], env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHIQL: 'true' } })
    try {
      for (const query of [INTROSPECTION, TYPE]) {
        const refused = await production.gql(query)
        expect(refused.data).toBeUndefined()
        expect(errorCodes(refused)).toEqual([LIMIT_ERROR_CODE.INTROSPECTION_DISABLED])
      }
      // Field suggestions would tell the schema too.
      const unknown = await production.gql('{ bulkz { uuid } }')
      expect(unknown.errors?.[0]?.message).not.toMatch(/Did you mean/)
      // `__typename` is no introspection.
      expect((await production.gql('{ __typename }')).data).toEqual({ __typename: 'Query' })

      // graphql-ws rejects with the errors of an operation it refused.
      const overWs = await production.wsClient().iterate({ query: INTROSPECTION }).next().then(() => [], (errors: unknown) => errors)
      expect(errorCodes({ errors: overWs })).toEqual([LIMIT_ERROR_CODE.INTROSPECTION_DISABLED])
      const page = await graphiqlPage(production)
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html')
      expect(page.status).not.toBe(200)

      expect((await enabled.gql(INTROSPECTION)).data).toEqual({ __schema: { queryType: { name: 'Query' } } })
      expect((await graphiqlPage(enabled)).headers.get('content-type')).toContain('text/html')
    } finally {
      await Promise.all([production.stop(), enabled.stop()])
    }
  })
})

describe('WebSocket limits', () => {
  const BULK_STATUS = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { status } }'

  /** A raw graphql-transport-ws socket, acknowledged; `closed` resolves with the close code. */
  async function openSocket (target: TestGateway, options: WebSocket.ClientOptions = {}): Promise<{ socket: WebSocket, closed: Promise<number>, messages: any[] }> {
    const socket = new WebSocket(target.wsUrl, 'graphql-transport-ws', options)
    const messages: any[] = []
    const closed = new Promise<number>(resolve => socket.once('close', (code) => resolve(code)))
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${target.adminToken}` } })))
      socket.on('message', (data) => {
        const message = JSON.parse(String(data))
        messages.push(message)
        if (message.type === 'connection_ack') resolve()
      })
      void closed.then(code => reject(new Error(`closed with ${code} before connection_ack`)))
    })
    return { socket, closed, messages }
  }

  async function openBulk (target: TestGateway): Promise<string> {
    const { data } = await target.gql(PLACE_ORDER, { input: order() })
    return data.placeOrder.bulkUuid
  }

  it('closes a socket that sends a message over WS_MAX_MESSAGE_BYTES with 1009, and runs nothing of it', async () => {
    const { socket, closed } = await openSocket(small)
    const input = Array.from({ length: 40 }, () => order())
    const message = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: PLACE_ORDERS, variables: { input } } })
    expect(message.length).toBeGreaterThan(4096)
    await writesNothing(small, async () => {
      socket.send(message)
      expect(await closed).toBe(WS_CLOSE_CODE.MESSAGE_TOO_BIG)
    })
  })

  it('refuses more operations on one socket than WS_MAX_SUBSCRIPTIONS, and takes one again when another completes', async () => {
    const uuid = await openBulk(small)
    const client: Client = small.wsClient()
    const results: Array<{ id: number, result?: any, error?: unknown }> = []
    const subscribe = (id: number): (() => void) => client.subscribe({ query: BULK_STATUS, variables: { uuid } }, {
      next: (result) => results.push({ id, result }),
      error: (error) => results.push({ id, error }),
      complete: () => {}
    })
    const stopFirst = subscribe(1)
    subscribe(2)
    await waitFor(() => results.filter(r => r.result?.data).length === 2)
    subscribe(3)
    await waitFor(() => results.some(r => r.id === 3))
    const third = results.find(r => r.id === 3)!
    expect((third.error as any[])[0]).toMatchObject({ extensions: { code: LIMIT_ERROR_CODE.TOO_MANY_SUBSCRIPTIONS } })
    stopFirst()
    await new Promise(resolve => setTimeout(resolve, 100))
    subscribe(4)
    await waitFor(() => results.some(r => r.id === 4))
    expect(results.find(r => r.id === 4)!.result.data.bulkStatus.status).toBe('NOT_STARTED')
  })

  it('closes a socket without any operation after WS_IDLE_TIMEOUT_SECONDS with 4410, but not one with a subscription', async () => {
    const idle = await openSocket(small)
    const started = Date.now()
    expect(await idle.closed).toBe(WS_CLOSE_CODE.IDLE_TIMEOUT)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)

    const uuid = await openBulk(small)
    const busy = await openSocket(small)
    let closedAt: number | undefined
    void busy.closed.then(() => { closedAt = Date.now() })
    busy.socket.send(JSON.stringify({ id: 'watch', type: 'subscribe', payload: { query: BULK_STATUS, variables: { uuid } } }))
    await new Promise(resolve => setTimeout(resolve, 2500))
    expect(closedAt).toBeUndefined()
    expect(busy.messages.some(m => m.type === 'next' && m.id === 'watch')).toBe(true)
    // Once its subscription is completed, the socket is idle, and closed a second later.
    const completedAt = Date.now()
    busy.socket.send(JSON.stringify({ id: 'watch', type: 'complete' }))
    expect(await busy.closed).toBe(WS_CLOSE_CODE.IDLE_TIMEOUT)
    expect(closedAt! - completedAt).toBeGreaterThanOrEqual(900)
  })

  it('drops a peer that does not answer pings (WS_KEEPALIVE_SECONDS)', async () => {
    const uuid = await openBulk(small)
    // A subscription keeps it from the idle timeout; not answering pings does not.
    const silent = await openSocket(small, { autoPong: false })
    silent.socket.send(JSON.stringify({ id: 'watch', type: 'subscribe', payload: { query: BULK_STATUS, variables: { uuid } } }))
    // Pinged after 1 s, dropped 1 s later without a close frame.
    expect(await silent.closed).toBe(1006)
  })
})

async function waitFor (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
