import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BULK, order, PLACE_ORDER, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway() })
afterAll(async () => { await gateway.stop() })

async function rowCounts (): Promise<{ bulks: number, operations: number, jobs: number }> {
  const { rows: [row] } = await gateway.sql.query(`SELECT
    (SELECT count(*) FROM bulk)::int AS bulks,
    (SELECT count(*) FROM operation)::int AS operations,
    (SELECT count(*) FROM pgboss.job WHERE name = 'order.place')::int AS jobs`)
  return row
}

describe('placeOrder', () => {
  it('answers with a bulk uuid at once, and the bulk finishes with the order created', async () => {
    const { data, errors } = await gateway.gql(PLACE_ORDER, { input: order() })
    expect(errors).toBeUndefined()
    const response = data.placeOrder
    expect(response.bulkUuid).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.errors).toBe(false)
    expect(response.requestItems).toEqual([{ id: 0, dataHash: expect.stringMatching(/^[0-9a-f]{64}$/), status: 'ACCEPTED', errorMessage: null }])

    const bulk = await waitForBulk(gateway, response.bulkUuid)
    expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
    expect(bulk.operationCount).toBe(1)
    expect(bulk.progress).toBe(1)
    expect(bulk.counts).toEqual({ open: 0, complete: 1, retriablyFailed: 0, notRetriablyFailed: 0, rejected: 0 })
    const [operation] = bulk.operations.edges.map((edge: any) => edge.node)
    expect(operation).toMatchObject({ index: 0, topic: 'order.place', status: 'COMPLETE', attempts: 1, errorCode: null })
    expect(operation.result.orderNumber).toMatch(/^ORD-\d{8}$/)
    expect(new Date(bulk.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(bulk.startedAt).getTime())
    expect(new Date(bulk.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(bulk.createdAt).getTime())

    const { rows } = await gateway.sql.query('SELECT * FROM orders WHERE order_number = $1', [operation.result.orderNumber])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ operation_id: operation.id, customer_email: 'ada@example.com', currency: 'EUR', total: '45.4800', status: expect.stringMatching(/^(PLACED|COMPLETED)$/) }) // the chain may have finished already
    expect(rows[0].shipping_address.country).toBe('DE')
  })

  it('records the data hash as the SHA-256 of the submitted item in canonical JSON', async () => {
    const input = order()
    const { data } = await gateway.gql(PLACE_ORDER, { input })
    const canonical = '{"currency":"EUR","customerEmail":"ada@example.com","items":[{"quantity":2,"sku":"DEMO-0001","unitPrice":"19.99"},' +
      '{"quantity":1,"sku":"DEMO-0002","unitPrice":"5.5"}],"shippingAddress":{"city":"Berlin","country":"DE","name":"Ada Lovelace",' +
      '"postcode":"10115","street":"Main Street 1"}}'
    const { rows: [op] } = await gateway.sql.query('SELECT data, data_hash FROM operation WHERE bulk_uuid = $1', [data.placeOrder.bulkUuid])
    expect(op.data_hash).toBe(data.placeOrder.requestItems[0].dataHash)
    expect(op.data_hash).toBe(createHash('sha256').update(canonical).digest('hex'))
    expect(op.data).toEqual(input)
  })
})

describe('placeOrders', () => {
  it('accepts the valid items, rejects the invalid one with a message naming the field, and finishes with failure', async () => {
    const input = [order(), order({ customerEmail: 'grace@example.com' }), order({ currency: 'XYZ' }), order({ customerEmail: 'alan@example.com' })]
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input, description: 'three good, one bad' })
    expect(errors).toBeUndefined()
    const response = data.placeOrders
    expect(response.errors).toBe(true)
    expect(response.requestItems.map((item: any) => item.status)).toEqual(['ACCEPTED', 'ACCEPTED', 'REJECTED', 'ACCEPTED'])
    expect(response.requestItems[2].errorMessage).toContain('currency must be an ISO 4217 code')
    expect(response.requestItems[2].errorMessage).toContain('"XYZ"')
    expect(response.requestItems.map((item: any) => item.id)).toEqual([0, 1, 2, 3])

    const bulk = await waitForBulk(gateway, response.bulkUuid)
    expect(bulk.status).toBe('FINISHED_WITH_FAILURE')
    expect(bulk.description).toBe('three good, one bad')
    expect(bulk.counts).toEqual({ open: 0, complete: 3, retriablyFailed: 0, notRetriablyFailed: 0, rejected: 1 })
    const operations = bulk.operations.edges.map((edge: any) => edge.node)
    expect(operations.map((op: any) => op.status)).toEqual(['COMPLETE', 'COMPLETE', 'REJECTED', 'COMPLETE'])
    expect(operations[2]).toMatchObject({ errorCode: 'INVALID_INPUT', attempts: 0, result: null })
    expect(operations[2].resultMessage).toContain('currency')

    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders o JOIN operation op ON op.id = o.operation_id WHERE op.bulk_uuid = $1', [response.bulkUuid])
    expect(rows[0].n).toBe(3)
    // The rejected item was never enqueued.
    const { rows: jobs } = await gateway.sql.query('SELECT count(*)::int AS n FROM pgboss.job WHERE data->>\'operationId\' = $1', [operations[2].id])
    expect(jobs[0].n).toBe(0)
  })

  it('names each invalid field: email, items, quantity, price, decimals, address, country', async () => {
    const bad = [
      order({ customerEmail: 'not-an-email' }),
      order({ items: [] }),
      order({ items: [{ sku: 'A', quantity: 0, unitPrice: '1' }] }),
      order({ items: [{ sku: 'A', quantity: 1, unitPrice: '-1' }] }),
      order({ items: [{ sku: 'A', quantity: 1, unitPrice: '1.23456' }] }),
      order({ items: [{ sku: ' ', quantity: 1, unitPrice: '1' }] }),
      order({ shippingAddress: { name: 'A', street: '', city: 'B', postcode: '1', country: 'DE' } }),
      order({ shippingAddress: { name: 'A', street: 'S', city: 'B', postcode: '1', country: 'Germany' } })
    ]
    const { data } = await gateway.gql(PLACE_ORDERS, { input: bad })
    const messages = data.placeOrders.requestItems.map((item: any) => { expect(item.status).toBe('REJECTED'); return item.errorMessage })
    expect(messages[0]).toContain('customerEmail')
    expect(messages[1]).toContain('items must contain at least one item')
    expect(messages[2]).toContain('items[0].quantity must be greater than 0')
    expect(messages[3]).toContain('items[0].unitPrice must be 0 or more')
    expect(messages[4]).toContain('items[0].unitPrice must have at most 4 decimals')
    expect(messages[5]).toContain('items[0].sku must not be empty')
    expect(messages[6]).toContain('shippingAddress.street must not be empty')
    expect(messages[7]).toContain('shippingAddress.country')
    // All rejected: the bulk is final at once, and nothing was enqueued.
    const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid)
    expect(bulk.status).toBe('FINISHED_WITH_FAILURE')
    expect(bulk.counts.rejected).toBe(8)
  })

  it('pages operations with cursors, filters them by status, and reads from the end', async () => {
    const input = Array.from({ length: 7 }, (_, i) => i === 3 ? order({ currency: 'eur' }) : order())
    const { data } = await gateway.gql(PLACE_ORDERS, { input })
    const uuid = data.placeOrders.bulkUuid
    await waitForBulk(gateway, uuid)
    const page = `query ($uuid: ID!, $first: Int, $after: String, $last: Int, $before: String, $status: OperationStatus) {
      bulk(uuid: $uuid) { operations(first: $first, after: $after, last: $last, before: $before, status: $status) {
        edges { cursor node { index status } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } } }`
    const first = (await gateway.gql(page, { uuid, first: 3 })).data.bulk.operations
    expect(first.edges.map((e: any) => e.node.index)).toEqual([0, 1, 2])
    expect(first.pageInfo.hasNextPage).toBe(true)
    const second = (await gateway.gql(page, { uuid, first: 3, after: first.pageInfo.endCursor })).data.bulk.operations
    expect(second.edges.map((e: any) => e.node.index)).toEqual([3, 4, 5])
    const third = (await gateway.gql(page, { uuid, first: 3, after: second.pageInfo.endCursor })).data.bulk.operations
    expect(third.edges.map((e: any) => e.node.index)).toEqual([6])
    expect(third.pageInfo.hasNextPage).toBe(false)

    const rejected = (await gateway.gql(page, { uuid, status: 'REJECTED' })).data.bulk.operations
    expect(rejected.edges.map((e: any) => [e.node.index, e.node.status])).toEqual([[3, 'REJECTED']])

    const last = (await gateway.gql(page, { uuid, last: 2 })).data.bulk.operations
    expect(last.edges.map((e: any) => e.node.index)).toEqual([5, 6])
    const before = (await gateway.gql(page, { uuid, last: 2, before: last.pageInfo.startCursor })).data.bulk.operations
    expect(before.edges.map((e: any) => e.node.index)).toEqual([3, 4])

    const bad = await gateway.gql(page, { uuid, first: 1, after: 'bm9wZQ' })
    expect(bad.errors?.[0]?.message).toContain('invalid cursor')
  })
})

describe('requests that cannot be accepted write nothing', () => {
  it('answers a query that is not valid GraphQL with an error', async () => {
    const before = await rowCounts()
    const syntax = await gateway.gql('mutation { placeOrder(input: { customerEmail: ')
    expect(syntax.errors?.[0]?.message).toMatch(/Syntax Error/)
    const missing = await gateway.gql('mutation { placeOrders(input: [{ customerEmail: "a@b.co" }]) { bulkUuid } }')
    expect(missing.errors?.[0]?.message).toMatch(/required/)
    const wrongType = await gateway.gql(PLACE_ORDER, { input: order({ items: [{ sku: 'A', quantity: 1, unitPrice: 19.99 }] }) })
    expect(wrongType.errors?.[0]?.message).toMatch(/Decimal must be a string/)
    const unknownField = await gateway.gql('{ bulk(uuid: "00000000-0000-4000-8000-000000000000") { nope } }')
    expect(unknownField.errors?.[0]?.message).toMatch(/Cannot query field "nope"/)
    expect(await rowCounts()).toEqual(before)
  })

  it('rejects an empty bulk with a coded error', async () => {
    const before = await rowCounts()
    const { errors } = await gateway.gql(PLACE_ORDERS, { input: [] })
    expect(errors?.[0]).toMatchObject({ message: 'input must contain at least one order', extensions: { code: 'EMPTY_BULK' } })
    expect(await rowCounts()).toEqual(before)
  })

  it('rejects a malformed uuid, and answers null for an unknown one', async () => {
    const malformed = await gateway.gql(BULK, { uuid: 'nope' })
    expect(malformed.errors?.[0]?.message).toMatch(/UUID/)
    const unknown = await gateway.gql(BULK, { uuid: '00000000-0000-4000-8000-000000000000' })
    expect(unknown.errors).toBeUndefined()
    expect(unknown.data.bulk).toBeNull()
  })

  it('leaves no bulk, no operation and no job when the acceptance transaction fails at its last step', async () => {
    // A real failure inside the transaction: the job insert (its last statement) raises.
    await gateway.sql.query(`CREATE FUNCTION test_refuse_job() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'job table refuses inserts (test)'; END $$`)
    await gateway.sql.query(`CREATE TRIGGER test_refuse_job BEFORE INSERT ON pgboss.job FOR EACH ROW
      WHEN (NEW.name = 'order.place') EXECUTE FUNCTION test_refuse_job()`)
    try {
      const before = await rowCounts()
      const { data, errors } = await gateway.gql(PLACE_ORDERS, { input: [order(), order(), order({ currency: 'nope' })] })
      expect(data).toBeNull()
      expect(errors?.[0]?.message).toBe('Unexpected error.') // masked: no SQL reaches the client
      expect(await rowCounts()).toEqual(before)
    } finally {
      await gateway.sql.query('DROP TRIGGER test_refuse_job ON pgboss.job; DROP FUNCTION test_refuse_job()')
    }
  })
})

describe('limits', () => {
  it('refuses a bulk above MAX_BULK_SIZE with a coded error and writes nothing', async () => {
    const small = await startGateway({ env: { MAX_BULK_SIZE: '3' }, roles: ['gateway'] })
    try {
      const { errors } = await small.gql(PLACE_ORDERS, { input: [order(), order(), order(), order()] })
      expect(errors?.[0]?.extensions?.code).toBe('BULK_TOO_LARGE')
      expect(errors?.[0]?.message).toContain('at most 3')
      const { rows } = await small.sql.query('SELECT (SELECT count(*) FROM bulk)::int AS b, (SELECT count(*) FROM operation)::int AS o')
      expect(rows[0]).toEqual({ b: 0, o: 0 })
      const ok = await small.gql(PLACE_ORDERS, { input: [order(), order(), order()] })
      expect(ok.data.placeOrders.requestItems).toHaveLength(3)
    } finally {
      await small.stop()
    }
  })
})

describe('large bulks', () => {
  it('accepts 5,000 orders in one request with batched statements, a job for each chunk of them', async () => {
    const input = Array.from({ length: 5000 }, (_, i) => order({ customerEmail: `buyer${i}@example.com` }))
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input, description: 'five thousand' })
    expect(errors).toBeUndefined()
    expect(data.placeOrders.requestItems).toHaveLength(5000)
    expect(data.placeOrders.errors).toBe(false)
    // BULK_CHUNK_SIZE (500): ten jobs, each naming its 500 operations, which name it as their job.
    const { rows: jobs } = await gateway.sql.query(`SELECT j.id, jsonb_array_length(j.data->'operationIds') AS carried,
        (SELECT count(*) FROM operation o WHERE o.job_id = j.id)::int AS naming
      FROM pgboss.job j WHERE j.id IN (SELECT job_id FROM operation WHERE bulk_uuid = $1)`, [data.placeOrders.bulkUuid])
    expect(jobs).toHaveLength(10)
    expect(jobs.every(job => job.carried === 500 && job.naming === 500)).toBe(true)
    const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid, ['FINISHED_SUCCESSFULLY'], 60_000)
    expect(bulk.counts.complete).toBe(5000)
    // Written in chunks of 5,000 rows, with the count known from the start.
    expect(bulk.operationCount).toBe(5000)
  }, 90_000)
})
