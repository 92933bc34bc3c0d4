import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../src/platform/configError.ts'
import { loadConfig, publicBaseUrl } from '../src/config/config.ts'
import { order, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

const RESULTS = `query ($uuid: ID!) {
  bulk(uuid: $uuid) { resultsUrl operations(first: 100) { edges { node { id index status } } } }
}`

let gateway: TestGateway
let port: number
beforeAll(async () => {
  gateway = await startGateway()
  port = Number(new URL(gateway.httpUrl).port)
})
afterAll(async () => { await gateway.stop() })

/** The credentials of the bulks' owner (the admin here). */
function auth (): Record<string, string> {
  return { authorization: `Bearer ${gateway.adminToken}` }
}

/** The server listens on 127.0.0.1; `localhost` may resolve to ::1 first. */
function reachable (url: string): string {
  return url.replace('//localhost:', '//127.0.0.1:')
}

async function download (url: string): Promise<{ response: Response, lines: any[] }> {
  const response = await fetch(reachable(url), { headers: auth() })
  const text = await response.text()
  expect(text === '' || text.endsWith('\n')).toBe(true)
  return { response, lines: text.split('\n').filter(line => line !== '').map(line => JSON.parse(line)) }
}

describe('the results file', () => {
  it('has one line per operation in request order: the result of completed ones, the error of rejected ones', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order(), order({ currency: 'XYZ' }), order()] })
    const uuid = data.placeOrders.bulkUuid
    await waitForBulk(gateway, uuid)

    const { data: { bulk } } = await gateway.gql(RESULTS, { uuid })
    // Absolute, from the public address (PUBLIC_URL unset: localhost and the port bound).
    expect(bulk.resultsUrl).toBe(`http://localhost:${port}/bulks/${uuid}/results.jsonl`)

    const { response, lines } = await download(bulk.resultsUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/jsonl; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')

    const ids = bulk.operations.edges.map((edge: any) => edge.node.id)
    expect(lines).toEqual([
      { index: 0, id: ids[0], status: 'COMPLETE', result: { orderNumber: expect.stringMatching(/^ORD-\d+$/), status: 'PLACED' } },
      { index: 1, id: ids[1], status: 'REJECTED', errorCode: 'INVALID_INPUT', message: expect.stringContaining('currency') },
      { index: 2, id: ids[2], status: 'COMPLETE', result: { orderNumber: expect.stringMatching(/^ORD-\d+$/), status: 'PLACED' } }
    ])
    // The result is the order the worker created for that operation.
    const { rows } = await gateway.sql.query('SELECT order_number FROM orders WHERE operation_id = $1', [ids[0]])
    expect(lines[0].result.orderNumber).toBe(rows[0].order_number)
  })

  it('answers 404 for an unknown or malformed uuid, 405 for other methods, and headers alone to HEAD', async () => {
    const base = gateway.httpUrl.replace(/\/graphql$/, '')
    for (const path of ['/bulks/00000000-0000-4000-8000-000000000000/results.jsonl', '/bulks/nope/results.jsonl', '/bulks/%zz/results.jsonl']) {
      const response = await fetch(base + path, { headers: auth() })
      expect(response.status).toBe(404)
      expect((await response.json()).error.code).toBe('NOT_FOUND')
    }

    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order({ currency: 'XYZ' })] })
    const url = `${base}/bulks/${data.placeOrders.bulkUuid}/results.jsonl`
    const post = await fetch(url, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    await post.body?.cancel()
    const head = await fetch(url, { method: 'HEAD', headers: auth() })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe('application/jsonl; charset=utf-8')
    expect(await head.text()).toBe('')

    // GraphQL is still served on the same server.
    const { data: typename } = await gateway.gql('{ __typename }')
    expect(typename).toEqual({ __typename: 'Query' })
  })

  it('streams a bulk of thousands of operations completely, page after page', async () => {
    const size = 3500
    const input = Array.from({ length: size }, (_, i) => order(i % 7 === 3 ? { currency: 'XYZ' } : {}))
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input })
    expect(errors).toBeUndefined()
    const uuid = data.placeOrders.bulkUuid
    await waitForBulk(gateway, uuid, undefined, 60_000)

    const { response, lines } = await download(`http://localhost:${port}/bulks/${uuid}/results.jsonl`)
    expect(response.status).toBe(200)
    // Streamed as it is read, not buffered first.
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(lines).toHaveLength(size)
    expect(lines.map(line => line.index)).toEqual(Array.from({ length: size }, (_, i) => i))
    expect(new Set(lines.map(line => line.id)).size).toBe(size)
    expect(lines.filter(line => line.status === 'REJECTED')).toHaveLength(500)
    expect(lines.filter(line => line.status === 'COMPLETE' && line.result.orderNumber)).toHaveLength(3000)
  }, 120_000)
})

describe('PUBLIC_URL', () => {
  it('is the base of absolute links; unset, localhost and the port', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://ops.example.com/gateway/' }).publicUrl).toBe('https://ops.example.com/gateway')
    expect(publicBaseUrl(loadConfig({ PUBLIC_URL: 'https://ops.example.com' }))).toBe('https://ops.example.com')
    expect(publicBaseUrl(loadConfig({ PORT: '4100' }))).toBe('http://localhost:4100')
    expect(publicBaseUrl(loadConfig({ PORT: '0' }), 41234)).toBe('http://localhost:41234')
    expect(() => loadConfig({ PUBLIC_URL: 'ops.example.com' })).toThrow(ConfigError)
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://ops.example.com' })).toThrow(/PUBLIC_URL must be an http\(s\) URL/)
  })
})
