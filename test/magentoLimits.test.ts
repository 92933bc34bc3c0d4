/**
 * The REST routes' refusals (docs/magento-rest.md): the same credentials, rate limit, body limit
 * and error policy as GraphQL, each answered with Magento's `{ message, parameters }` and the right
 * HTTP status, and nothing written; the idempotency key; and the OpenAPI description.
 */
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import { validate } from '@readme/openapi-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROLE } from '../src/access/principal.ts'
import { createApiToken } from '../src/access/tokens.ts'
import { MAGENTO_ERROR_CODE, magentoErrorCode } from '../src/api/rest/magento.ts'
import { REST_ROUTES } from '../src/api/rest/routes.ts'
import { INVENTORY_ERROR_CODE } from '../src/inventory/domain/errors.ts'
import { STOCK_FAILURE_CODE } from '../src/inventory/domain/stock.ts'
import { OPERATION_ERROR_CODE } from '../src/operations/domain/status.ts'
import { ORDER_ERROR_CODE } from '../src/orders/domain/errors.ts'
import { startGateway, type TestGateway } from './helpers/gateway.ts'
import { magentoOrder, restClient, type RestClient } from './helpers/rest.ts'

const MAX_BODY_BYTES = 8192
const RATE_LIMIT = 5

let gateway: TestGateway
let rest: RestClient
beforeAll(async () => {
  // No workers: nothing accepted here needs to run.
  gateway = await startGateway({ roles: ['gateway'], env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) } })
  rest = restClient(gateway)
})
afterAll(async () => { await gateway.stop() })

async function bulks (): Promise<number> {
  return (await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n
}

/**
 * A token of its own, so that the requests of one test count under a rate-limit key of their own
 * (made in the database: createApiToken over GraphQL would count under the admin's).
 */
async function token (): Promise<string> {
  return (await createApiToken(gateway.sql, `rest-${randomUUID()}`, ROLE.INTEGRATION)).token
}

describe('refusals', () => {
  it('401 without valid credentials, before the body is read', async () => {
    for (const given of [null, 'not-a-token']) {
      const answer = await rest.post('/rest/async/V1/orders', magentoOrder(), given)
      expect([answer.status, answer.headers.get('www-authenticate')]).toEqual([401, 'Bearer'])
      expect(answer.body).toEqual({ message: 'authentication required: send an API token or a JWT as `Authorization: Bearer <token>`', parameters: [] })
    }
    // An anonymous caller is answered before it has sent its body: 401, not 413, and nothing buffered.
    const early = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.request(`${rest.base}/rest/async/bulk/V1/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES * 100) }
      }, (response) => {
        resolve(response.statusCode)
        request.destroy()
      })
      request.on('error', reject)
      request.flushHeaders() // the headers only: the body never comes
    })
    expect(early).toBe(401)
    expect((await rest.get('/rest/V1/bulk', null)).status).toBe(401)
  })

  it("400 for a body that is not JSON, not said to be JSON, or not of the route's form; nothing is written", async () => {
    const caller = await token()
    const before = await bulks()
    const cases: Array<[string, unknown, Record<string, string>, unknown]> = [
      ['/rest/async/V1/orders', '{"entity": ', {}, { message: 'Decoding error: %reason', parameters: { reason: expect.stringContaining('JSON') } }],
      ['/rest/async/V1/orders', JSON.stringify(magentoOrder()), { 'content-type': 'text/plain' },
        { message: 'Server cannot understand Content-Type HTTP header media type %type: send application/json', parameters: { type: 'text/plain' } }],
      ['/rest/async/bulk/V1/orders', magentoOrder(), {}, { message: 'the body of a bulk request must be a JSON array, one element per operation', parameters: [] }],
      ['/rest/async/bulk/V1/orders', [], {}, { message: 'input must contain at least one order', parameters: [] }]
    ]
    for (const [path, body, headers, expected] of cases) {
      const answer = await rest.post(path, body, caller, headers)
      expect([answer.status, answer.body]).toEqual([400, expected])
    }
    expect(await bulks()).toBe(before)
  })

  it('413 for a body over MAX_BODY_BYTES, declared or not; nothing is written', async () => {
    const caller = await token()
    const before = await bulks()
    const big = Array.from({ length: 10 }, () => magentoOrder())
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_BODY_BYTES)
    const declared = await rest.post('/rest/async/bulk/V1/orders', big, caller)
    expect([declared.status, declared.body]).toEqual([413, {
      message: 'request body larger than %limit bytes (MAX_BODY_BYTES); send larger bulks in several requests', parameters: { limit: String(MAX_BODY_BYTES) }
    }])
    // Streamed without a Content-Length: counted as it arrives.
    const text = new TextEncoder().encode(JSON.stringify(big))
    const chunked = await fetch(`${rest.base}/rest/async/bulk/V1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${caller}` },
      body: new ReadableStream({ start (controller) { controller.enqueue(text); controller.close() } }),
      duplex: 'half'
    } as RequestInit)
    expect(chunked.status).toBe(413)
    expect(await bulks()).toBe(before)
  })

  it('429 over the rate limit, with Retry-After; each request counts one hit', async () => {
    const caller = await token()
    for (let i = 0; i < RATE_LIMIT; i++) expect((await rest.get('/rest/V1/bulk', caller)).status).toBe(200)
    const refused = await rest.get('/rest/V1/bulk', caller)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.body).toEqual({ message: expect.stringMatching(/^rate limit of 5 operations per 60 s exceeded; try again in \d+ s$/), parameters: [] })
    expect((await rest.post('/rest/async/V1/orders', magentoOrder(), caller)).status).toBe(429)
  })

  it('404 for a path no route has, 405 for a method the path does not take', async () => {
    const caller = await token()
    const unknown = await rest.get('/rest/V1/products', caller)
    expect([unknown.status, unknown.body]).toEqual([404, { message: 'Request does not match any route.', parameters: [] }])
    const wrong = await rest.post('/rest/V1/bulk/00000000-0000-4000-8000-000000000000/status', {}, caller)
    expect([wrong.status, wrong.headers.get('allow'), wrong.body.message]).toEqual([405, 'GET', '%method is not allowed here; use %allowed'])
    // GraphQL is still served beside the routes.
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, caller)).errors).toBeUndefined()
  })
})

describe('the Idempotency-Key header', () => {
  it('answers a repeated request as the first time, a different one with 409, and a malformed key with 400', async () => {
    const caller = await token()
    const first = await rest.post('/rest/async/V1/orders', magentoOrder(), caller, { 'idempotency-key': 'rest-key-1' })
    const again = await rest.post('/rest/async/V1/orders', magentoOrder(), caller, { 'idempotency-key': 'rest-key-1' })
    expect(first.status).toBe(202)
    expect(again.body).toEqual(first.body)
    const other = await rest.post('/rest/async/V1/orders', magentoOrder({ customer_email: 'grace@example.com' }), caller, { 'idempotency-key': 'rest-key-1' })
    expect([other.status, other.body.message]).toEqual([409, expect.stringContaining('idempotency key "rest-key-1" was used for a different request')])
    const malformed = await rest.post('/rest/async/V1/orders', magentoOrder(), caller, { 'idempotency-key': 'has spaces' })
    expect([malformed.status, malformed.body.message]).toEqual([400, 'the Idempotency-Key header must be 1 to 255 printable ASCII characters'])
  })
})

describe('/rest/openapi.json', () => {
  it('is a valid OpenAPI 3.1 description of every route, served without credentials', async () => {
    const answer = await rest.get('/rest/openapi.json', null)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const document = answer.body
    expect(document.openapi).toBe('3.1.0')
    const result = await validate(structuredClone(document))
    expect(result.valid ? [] : result.errors).toEqual([])

    const documented = Object.entries(document.paths as Record<string, Record<string, any>>)
      .flatMap(([path, methods]) => Object.keys(methods).map(method => `${method.toUpperCase()} ${path}`)).sort()
    expect(documented).toEqual(REST_ROUTES.map(route => `${route.method} ${route.path}`).sort())
    expect(documented).toEqual(expect.arrayContaining([
      'POST /async/V1/orders', 'POST /async/bulk/V1/orders', 'POST /async/V1/orders/{id}/cancel', 'POST /async/bulk/V1/orders/byId/cancel',
      'POST /async/V1/orders/{id}/retry', 'POST /async/bulk/V1/orders/byId/retry', 'POST /async/V1/inventory/stock-adjustments',
      'POST /async/bulk/V1/inventory/stock-adjustments', 'GET /V1/bulk/{bulkUuid}/status', 'GET /V1/bulk/{bulkUuid}/detailed-status',
      'GET /V1/bulk/{bulkUuid}/operation-status/{status}', 'GET /V1/bulk'
    ]))
    // Generated from the schemas that validate: the order entity's honoured fields are there.
    const placeOrder = document.paths['/async/V1/orders'].post
    const entity = placeOrder.requestBody.content['application/json'].schema.properties.entity
    expect(Object.keys(entity.properties)).toEqual(['customer_email', 'order_currency_code', 'items', 'extension_attributes', 'payment'])
    expect(Object.keys(placeOrder.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '413', '429']))
    expect(document.servers.map((server: any) => server.url)).toEqual(['/rest', '/rest/{store}'])
  })
})

describe('error codes', () => {
  it('give every code an operation can end with a number of its own (Magento\'s error_code is an integer)', () => {
    const codes = [
      ...Object.values(OPERATION_ERROR_CODE), ...Object.values(ORDER_ERROR_CODE), ...Object.values(INVENTORY_ERROR_CODE),
      ...Object.values(STOCK_FAILURE_CODE), 'ORDER_NOT_PLACED'
    ]
    for (const code of codes) expect([code, MAGENTO_ERROR_CODE[code]]).toEqual([code, expect.any(Number)])
    const numbers = Object.values(MAGENTO_ERROR_CODE)
    expect(new Set(numbers).size).toBe(numbers.length)
    expect([magentoErrorCode(null), magentoErrorCode('SOMETHING_NEW')]).toEqual([null, 0])
  })
})
