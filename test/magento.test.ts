/**
 * Magento's asynchronous and bulk REST API (issue 14, docs/magento-rest.md), through real HTTP on a
 * real gateway and real workers: the answers compared field by field with the shapes Magento
 * documents (asynchronous-web-endpoints, bulk-endpoints, operation-status-endpoints,
 * operation-status-search).
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../src/operations/domain/canonicalJson.ts'
import { eventually, startGateway, type TestGateway } from './helpers/gateway.ts'
import { magentoOrder, restClient, type RestClient } from './helpers/rest.ts'

let gateway: TestGateway
let rest: RestClient
beforeAll(async () => {
  gateway = await startGateway()
  rest = restClient(gateway)
})
afterAll(async () => { await gateway.stop() })

const HASH = /^[0-9a-f]{64}$/
const ORDER_NUMBER = /^ORD-\d{8,}$/
const MAGENTO_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/** The PlaceOrderInput magentoOrder() maps to. */
const MAPPED = {
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '19.99' }, { sku: 'DEMO-0002', quantity: 1, unitPrice: '5.5' }],
  shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1, Floor 2', city: 'Berlin', postcode: '10115', country: 'DE' },
  paymentToken: 'tok_visa'
}

/** Polls the short status, as a Magento client does, until no operation is OPEN (4) or waiting for a retry (2). */
async function pollUntilDone (bulkUuid: string): Promise<any> {
  return await eventually(async () => {
    const { status, body } = await rest.get(`/rest/V1/bulk/${bulkUuid}/status`)
    expect(status).toBe(200)
    return body.operations_list.every((operation: any) => operation.status !== 4 && operation.status !== 2) ? body : undefined
  }, 30_000, `bulk ${bulkUuid} to finish`)
}

describe('POST /rest/async/V1/orders', () => {
  it("answers 202 with Magento's AsyncResponse, and stores the order mapped from the entity", async () => {
    const { status, body } = await rest.post('/rest/async/V1/orders', magentoOrder())
    expect(status).toBe(202)
    expect(Object.keys(body)).toEqual(['bulk_uuid', 'request_items', 'errors'])
    expect(body.errors).toBe(false)
    expect(body.request_items).toEqual([{
      id: 0,
      data_hash: expect.stringMatching(HASH),
      status: 'accepted',
      error_message: null,
      error_code: null,
      extension_attributes: { order_number: expect.stringMatching(ORDER_NUMBER) }
    }])

    const { rows: [operation] } = await gateway.sql.query('SELECT data, data_hash, topic FROM operation WHERE bulk_uuid = $1', [body.bulk_uuid])
    // The fields honoured, mapped; the ignored ones (totals, status, billing address, …) left out.
    expect(operation.data).toEqual(MAPPED)
    expect(operation.topic).toBe('order.place')
    expect(body.request_items[0].data_hash).toBe(createHash('sha256').update(canonicalJson(operation.data)).digest('hex'))
    await pollUntilDone(body.bulk_uuid)
    const { rows: [placed] } = await gateway.sql.query('SELECT status, total::text FROM orders WHERE order_number = $1', [body.request_items[0].extension_attributes.order_number])
    expect(placed.total).toBe('45.4800')
  })

  it('takes a store code in the path, as Magento does, and leaves child items out', async () => {
    const order = magentoOrder()
    order.entity.items.push({ sku: 'DEMO-0003', qty_ordered: 2, price: 0, parent_item_id: 7 })
    const { status, body } = await rest.post('/rest/default/async/V1/orders', order)
    expect(status).toBe(202)
    expect(body.request_items[0].status).toBe('accepted')
    const { rows: [operation] } = await gateway.sql.query('SELECT data FROM operation WHERE bulk_uuid = $1', [body.bulk_uuid])
    expect(operation.data.items).toEqual(MAPPED.items)
  })

  it("rejects an invalid order with a message naming Magento's fields, not ours", async () => {
    const order = magentoOrder({ order_currency_code: 'XYZ' })
    order.entity.items[1]!.qty_ordered = 2.5
    const { status, body } = await rest.post('/rest/async/V1/orders', order)
    expect(status).toBe(202)
    expect(body.errors).toBe(true)
    const [item] = body.request_items
    expect(item).toEqual({
      id: 0,
      data_hash: expect.stringMatching(HASH),
      status: 'rejected',
      error_message: expect.any(String),
      error_code: 100,
      extension_attributes: { order_number: null }
    })
    expect(item.error_message).toContain('entity.order_currency_code must be an ISO 4217 code')
    expect(item.error_message).toContain('entity.items[1].qty_ordered must be greater than 0, got 2.5')
    expect(item.error_message).not.toMatch(/currency must|quantity/)

    // As Magento, a request without the entity is refused whole, and nothing is written.
    const before = (await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n
    const missing = await rest.post('/rest/async/V1/orders', [magentoOrder()])
    expect(missing.status).toBe(400)
    expect(missing.body).toEqual({ message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: 'entity' } })
    expect((await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n).toBe(before)
  })
})

describe('POST /rest/async/bulk/V1/orders', () => {
  it('rejects the invalid elements, naming their fields, and enqueues the valid ones', async () => {
    const noAddress = magentoOrder()
    noAddress.entity.extension_attributes = {} as never
    const badItem = magentoOrder()
    badItem.entity.items[0] = { sku: 'DEMO-0001', price: 'cheap' } as never
    const { status, body } = await rest.post('/rest/async/bulk/V1/orders', [magentoOrder(), noAddress, badItem, 'nonsense'])
    expect(status).toBe(202)
    expect(body.errors).toBe(true)
    expect(body.request_items.map((item: any) => [item.id, item.status])).toEqual([[0, 'accepted'], [1, 'rejected'], [2, 'rejected'], [3, 'rejected']])
    expect(body.request_items[1].error_message).toBe('entity.extension_attributes.shipping_assignments is required')
    expect(body.request_items[2].error_message).toBe('entity.items[0].qty_ordered is required')
    expect(body.request_items[3].error_message).toBe('the body must be an object')
    const { rows } = await gateway.sql.query('SELECT request_index, status, job_id IS NOT NULL AS enqueued FROM operation WHERE bulk_uuid = $1 ORDER BY request_index', [body.bulk_uuid])
    expect(rows).toEqual([
      { request_index: 0, status: 'OPEN', enqueued: true },
      { request_index: 1, status: 'REJECTED', enqueued: false },
      { request_index: 2, status: 'REJECTED', enqueued: false },
      { request_index: 3, status: 'REJECTED', enqueued: false }
    ])
  })
})

describe('a Magento-style client', () => {
  it('posts a bulk, polls status until done, then reads detailed-status', async () => {
    const unknownSku = magentoOrder()
    unknownSku.entity.items = [{ sku: 'NO-SUCH-SKU', qty_ordered: 1, price: 1 }]
    const posted = await rest.post('/rest/async/bulk/V1/orders', [magentoOrder(), unknownSku, magentoOrder({ customer_email: 'not an address' })])
    expect(posted.status).toBe(202)
    const uuid = posted.body.bulk_uuid

    const done = await pollUntilDone(uuid)
    expect(Object.keys(done)).toEqual(['operations_list', 'user_type', 'bulk_id', 'description', 'start_time', 'user_id', 'operation_count', 'extension_attributes'])
    expect(done).toEqual({
      operations_list: [
        { id: expect.any(Number), status: 1, result_message: null, error_code: null },
        { id: expect.any(Number), status: 3, result_message: expect.stringContaining('unknown SKU'), error_code: 300 },
        { id: expect.any(Number), status: 5, result_message: expect.stringContaining('entity.customer_email must be an email address'), error_code: 100 }
      ],
      user_type: 2,
      bulk_id: uuid,
      description: 'Topic order.place',
      start_time: expect.stringMatching(MAGENTO_TIME),
      user_id: null,
      operation_count: 3,
      extension_attributes: { bulk_status: 'FINISHED_WITH_FAILURE', finished_at: expect.stringMatching(MAGENTO_TIME), owner: 'admin' }
    })
    const ids = done.operations_list.map((operation: any) => operation.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))

    const { status, body: detailed } = await rest.get(`/rest/V1/bulk/${uuid}/detailed-status`)
    expect(status).toBe(200)
    const { operations_list: operations, ...summary } = detailed
    const { operations_list: _, ...shortSummary } = done
    expect(summary).toEqual(shortSummary)
    const { rows } = await gateway.sql.query('SELECT id, data, result FROM operation WHERE bulk_uuid = $1 ORDER BY request_index', [uuid])
    expect(operations[0]).toEqual({
      id: ids[0],
      bulk_uuid: uuid,
      topic_name: 'order.place',
      serialized_data: expect.any(String),
      result_serialized_data: expect.any(String),
      status: 1,
      result_message: null,
      error_code: null,
      extension_attributes: { start_time: done.start_time, operation_key: 0, operation_id: rows[0].id, error: null }
    })
    const serialized = JSON.parse(operations[0].serialized_data)
    expect(serialized).toEqual({ entity_id: null, entity_link: '', meta_information: expect.any(String) })
    expect(JSON.parse(serialized.meta_information)).toEqual(MAPPED)
    expect(JSON.parse(operations[0].result_serialized_data)).toEqual({ orderNumber: posted.body.request_items[0].extension_attributes.order_number, status: 'PLACED' })
    expect(operations[1]).toMatchObject({ status: 3, error_code: 300, result_serialized_data: null, extension_attributes: { operation_key: 1, error: 'UNKNOWN_SKU' } })
    // A rejected item is kept as it was sent.
    expect(operations[2]).toMatchObject({ status: 5, error_code: 100, extension_attributes: { operation_key: 2, error: 'INVALID_INPUT' } })
    expect(JSON.parse(JSON.parse(operations[2].serialized_data).meta_information).entity.customer_email).toBe('not an address')

    for (const [code, count] of [[1, 1], [2, 0], [3, 1], [4, 0], [5, 1], [6, 0], [7, 0]]) {
      const answer = await rest.get(`/rest/V1/bulk/${uuid}/operation-status/${code}`)
      expect([answer.status, answer.text]).toEqual([200, String(count)])
    }
    const bad = await rest.get(`/rest/V1/bulk/${uuid}/operation-status/8`)
    expect(bad.status).toBe(400)
    expect(bad.body).toEqual({ message: 'status must be an operation status from 1 to 7, got "%status"', parameters: { status: '8' } })
  })
})

describe('numeric statuses', () => {
  it('are 4 (OPEN) while nothing has run, with 5 for the rejected, then 1 once a worker has run them', async () => {
    // A gateway without workers: what it accepts waits until a worker process starts on its database.
    const queued = await startGateway({ roles: ['gateway'] })
    try {
      const client = restClient(queued)
      const posted = await client.post('/rest/async/bulk/V1/orders', [magentoOrder(), magentoOrder({ order_currency_code: 'EURO' }), magentoOrder()])
      const uuid = posted.body.bulk_uuid
      const waiting = await client.get(`/rest/V1/bulk/${uuid}/status`)
      expect(waiting.body.operations_list.map((operation: any) => operation.status)).toEqual([4, 5, 4])
      expect(waiting.body.extension_attributes).toEqual({ bulk_status: 'NOT_STARTED', finished_at: null, owner: 'admin' })
      expect((await client.get(`/rest/V1/bulk/${uuid}/operation-status/4`)).body).toBe(2)
      expect((await client.get(`/rest/V1/bulk/${uuid}/detailed-status`)).body.operations_list.map((operation: any) => operation.result_serialized_data)).toEqual([null, null, null])

      const worker = await startGateway({ roles: ['worker'], db: queued.db })
      try {
        const done = await eventually(async () => {
          const { body } = await client.get(`/rest/V1/bulk/${uuid}/status`)
          return body.extension_attributes.finished_at !== null ? body : undefined
        }, 30_000, 'the bulk to finish')
        expect(done.operations_list.map((operation: any) => operation.status)).toEqual([1, 5, 1])
        expect(done.extension_attributes.bulk_status).toBe('FINISHED_WITH_FAILURE')
        expect((await client.get(`/rest/V1/bulk/${uuid}/operation-status/4`)).body).toBe(0)
        expect((await client.get(`/rest/V1/bulk/${uuid}/operation-status/1`)).body).toBe(2)
      } finally {
        await worker.stop()
      }
    } finally {
      await queued.stop()
    }
  })
})

describe("another owner's bulk", () => {
  it("is a 404 in Magento's shape on every status route, as a missing one; an admin sees it", async () => {
    const alice = await gateway.createToken('alice-rest')
    const bob = await gateway.createToken('bob-rest')
    const posted = await rest.post('/rest/async/V1/orders', magentoOrder(), alice)
    const uuid = posted.body.bulk_uuid
    expect((await rest.get(`/rest/V1/bulk/${uuid}/status`, alice)).body.user_type).toBe(1)

    for (const path of [`/rest/V1/bulk/${uuid}/status`, `/rest/V1/bulk/${uuid}/detailed-status`, `/rest/V1/bulk/${uuid}/operation-status/4`]) {
      const other = await rest.get(path, bob)
      expect([other.status, other.body]).toEqual([404, { message: 'Bulk uuid %bulkUuid not exist', parameters: { bulkUuid: uuid } }])
      const missing = await rest.get(path.replace(uuid, '00000000-0000-4000-8000-000000000000'), alice)
      expect(missing.status).toBe(404)
      expect((await rest.get(path)).status).toBe(200) // the admin
    }
    const malformed = await rest.get('/rest/V1/bulk/not-a-uuid/status', alice)
    expect([malformed.status, malformed.body.message]).toEqual([404, 'Bulk uuid %bulkUuid not exist'])

    // Bob's search finds none of Alice's operations; hers does.
    const search = `/rest/V1/bulk?searchCriteria[filter_groups][0][filters][0][field]=bulk_uuid&searchCriteria[filter_groups][0][filters][0][value]=${uuid}`
    expect((await rest.get(search, bob)).body.total_count).toBe(0)
    expect((await rest.get(search, alice)).body.total_count).toBe(1)
  })
})

describe('GET /rest/V1/bulk?searchCriteria', () => {
  it("answers the operations that match in Magento's search-results shape, a page at a time", async () => {
    const posted = await rest.post('/rest/async/bulk/V1/orders', [magentoOrder(), magentoOrder({ order_currency_code: 'X' }), magentoOrder({ customer_email: '' })])
    const uuid = posted.body.bulk_uuid
    await pollUntilDone(uuid)
    const filter = (g: number, f: number, field: string, value: string, condition?: string): string =>
      `searchCriteria[filter_groups][${g}][filters][${f}][field]=${field}&searchCriteria[filter_groups][${g}][filters][${f}][value]=${value}` +
      (condition !== undefined ? `&searchCriteria[filter_groups][${g}][filters][${f}][condition_type]=${condition}` : '')

    // Groups are ANDed, the filters of a group ORed (Magento's searchCriteria).
    const { status, body } = await rest.get(`/rest/V1/bulk?${filter(0, 0, 'bulk_uuid', uuid)}&${filter(1, 0, 'status', '5')}&${filter(1, 1, 'status', '1')}&searchCriteria[pageSize]=2`)
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['items', 'search_criteria', 'total_count'])
    expect(body.total_count).toBe(3)
    expect(body.items.map((item: any) => [item.extension_attributes.operation_key, item.status])).toEqual([[0, 1], [1, 5]])
    expect(Object.keys(body.items[0])).toEqual(['id', 'bulk_uuid', 'topic_name', 'serialized_data', 'result_serialized_data', 'status', 'result_message', 'error_code', 'extension_attributes'])
    expect(body.search_criteria).toEqual({
      filter_groups: [
        { filters: [{ field: 'bulk_uuid', value: uuid }] },
        { filters: [{ field: 'status', value: '5' }, { field: 'status', value: '1' }] }
      ],
      page_size: 2
    })
    const second = await rest.get(`/rest/V1/bulk?${filter(0, 0, 'bulk_uuid', uuid)}&searchCriteria[pageSize]=2&searchCriteria[currentPage]=2`)
    expect(second.body.items.map((item: any) => item.extension_attributes.operation_key)).toEqual([2])
    const newestFirst = await rest.get(`/rest/V1/bulk?${filter(0, 0, 'bulk_uuid', uuid)}&searchCriteria[sortOrders][0][field]=id&searchCriteria[sortOrders][0][direction]=DESC`)
    expect(newestFirst.body.items.map((item: any) => item.extension_attributes.operation_key)).toEqual([2, 1, 0])
    const rejected = await rest.get(`/rest/V1/bulk?${filter(0, 0, 'bulk_uuid', uuid)}&${filter(1, 0, 'status', '1,4', 'nin')}`)
    expect(rejected.body.items.map((item: any) => item.status)).toEqual([5, 5])
    const since = await rest.get(`/rest/V1/bulk?${filter(0, 0, 'bulk_uuid', uuid)}&${filter(1, 0, 'start_time', '2000-01-01 00:00:00', 'gt')}`)
    expect(since.body.total_count).toBe(3)

    for (const [query, message] of [
      [filter(0, 0, 'color', 'red'), 'searchCriteria[filter_groups][0][filters][0][field] must be one of bulk_uuid, status, topic_name, start_time, got "%field"'],
      [filter(0, 0, 'status', '9'), 'searchCriteria[filter_groups][0][filters][0][value] is not a valid status: "%value"'],
      [filter(0, 0, 'status', '1', 'like'), 'searchCriteria[filter_groups][0][filters][0][condition_type] must be one of eq, neq, in, nin for status, got "%condition"'],
      ['searchCriteria[pageSize]=5000', 'searchCriteria[page_size] must be at most 1000']
    ]) {
      const refused = await rest.get(`/rest/V1/bulk?${query}`)
      expect([refused.status, refused.body.message]).toEqual([400, message])
    }
  })
})

describe('cancel, retry and stock adjustment routes', () => {
  it('cancel and retry orders by number, one or many, rejecting what names no order', async () => {
    const placed = await rest.post('/rest/async/V1/orders', magentoOrder())
    const number = placed.body.request_items[0].extension_attributes.order_number
    const canceled = await rest.post(`/rest/async/V1/orders/${number}/cancel`, undefined)
    expect(canceled.status).toBe(202)
    expect(canceled.body.request_items).toEqual([{ id: 0, data_hash: expect.stringMatching(HASH), status: 'accepted', error_message: null, error_code: null, extension_attributes: { order_number: number } }])
    // The cancellation runs after the placement; the chain may have completed the order by then.
    const done = await pollUntilDone(canceled.body.bulk_uuid)
    const { rows: [order] } = await gateway.sql.query('SELECT status FROM orders WHERE order_number = $1', [number])
    expect([done.operations_list[0].status, done.operations_list[0].error_code, order.status]).toEqual(
      order.status === 'CANCELED' ? [1, null, 'CANCELED'] : [3, 207, 'COMPLETED'])

    const many = await rest.post('/rest/async/bulk/V1/orders/byId/retry', [{ id: number }, { id: 'nope' }, { id: 'ORD-99999999' }, {}])
    expect(many.status).toBe(202)
    expect(many.body.request_items.map((item: any) => [item.status, item.error_message])).toEqual([
      ['accepted', null],
      ['rejected', 'id must be an order number such as ORD-00000042, got "nope"'],
      ['rejected', 'no order ORD-99999999'],
      ['rejected', 'id is required']
    ])
    const cancelMany = await rest.post('/rest/async/bulk/V1/orders/byId/cancel', [{ id: number }])
    expect(cancelMany.body.request_items[0].status).toBe('accepted')
    const { rows } = await gateway.sql.query('SELECT topic FROM operation WHERE bulk_uuid = ANY($1::uuid[]) AND status <> \'REJECTED\' ORDER BY topic',
      [[many.body.bulk_uuid, cancelMany.body.bulk_uuid]])
    expect(rows.map(row => row.topic)).toEqual(['order.cancel', 'order.retry'])
  })

  it("adjust stock for admins only (403 in Magento's shape otherwise)", async () => {
    const integration = await gateway.createToken('stock-rest')
    const refused = await rest.post('/rest/async/V1/inventory/stock-adjustments', { adjustment: { sku: 'REST-1', quantity: 5 } }, integration)
    expect([refused.status, refused.body]).toEqual([403, {
      message: "The consumer isn't authorized to access %resources.", parameters: { resources: 'POST /async/V1/inventory/stock-adjustments (admins only)' }
    }])
    const one = await rest.post('/rest/async/V1/inventory/stock-adjustments', { adjustment: { sku: 'REST-1', quantity: 5 } })
    expect(one.body.request_items).toEqual([{ id: 0, data_hash: expect.stringMatching(HASH), status: 'accepted', error_message: null, error_code: null }])
    const many = await rest.post('/rest/async/bulk/V1/inventory/stock-adjustments', [{ adjustment: { sku: 'REST-1', quantity: -2 } }, { adjustment: { sku: 'REST-1' } }])
    expect(many.body.request_items.map((item: any) => [item.status, item.error_message])).toEqual([['accepted', null], ['rejected', 'adjustment.quantity is required']])
    await pollUntilDone(one.body.bulk_uuid)
    await pollUntilDone(many.body.bulk_uuid)
    const { rows: [stock] } = await gateway.sql.query("SELECT available FROM inventory WHERE sku = 'REST-1'")
    expect(Number(stock.available)).toBe(3)
  })
})
