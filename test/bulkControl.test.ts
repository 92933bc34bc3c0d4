import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BULK, eventually, order, PLACE_ORDER, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

// Failures are injected with a trigger on `orders`: while test_fault has a row for an email, placing
// an order for it fails permanently; deleting the row lets a retry succeed. Slow orders take 300 ms,
// held ones 1 s.
const FAULTS = `
  CREATE TABLE test_fault (customer_email text PRIMARY KEY);
  CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_fault WHERE customer_email = NEW.customer_email) THEN
      RAISE EXCEPTION 'injected: the ERP refused %', NEW.customer_email USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.customer_email LIKE 'slow%' THEN PERFORM pg_sleep(0.3); END IF;
    IF NEW.customer_email LIKE 'held%' THEN PERFORM pg_sleep(1); END IF;
    IF NEW.customer_email = 'always-busy@example.com' THEN
      RAISE EXCEPTION 'injected: busy' USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_fault BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_fault();`

let gateway: TestGateway
beforeAll(async () => {
  // Small batches, one worker: slow orders take long enough to cancel a bulk half way.
  // (A batch of 1 would not burst: pg-boss fetches again only after a poll interval.) Placements only: these
  // tests are about bulks, and the post-order chain's writes to orders would run the slow trigger too.
  gateway = await startGateway({ env: { WORKER_BATCH_SIZE: '2', WORKER_CONCURRENCY: '1', WORKER_TOPICS: 'order.place' } })
  await gateway.sql.query(FAULTS)
})
afterAll(async () => { await gateway.stop() })

const OPERATIONS = `query ($uuid: ID!, $status: OperationStatus, $errorCode: String) {
  bulk(uuid: $uuid) { operations(first: 100, status: $status, errorCode: $errorCode) { edges { node { id index status errorCode data result } } } } }`

async function countRows (): Promise<{ bulks: number, operations: number, jobs: number, keys: number }> {
  const { rows: [row] } = await gateway.sql.query(`SELECT (SELECT count(*) FROM bulk)::int AS bulks, (SELECT count(*) FROM operation)::int AS operations,
    (SELECT count(*) FROM pgboss.job WHERE name = 'order.place')::int AS jobs, (SELECT count(*) FROM idempotency_key)::int AS keys`)
  return row
}

describe('retryBulk', () => {
  it('enqueues failed operations again, only those asked for, and the bulk finishes again', async () => {
    await gateway.sql.query('INSERT INTO test_fault VALUES (\'erp-a@example.com\'), (\'erp-b@example.com\')')
    const input = [order(), order({ customerEmail: 'erp-a@example.com' }), order({ currency: 'nope' }), order({ customerEmail: 'erp-b@example.com' })]
    const { data } = await gateway.gql(PLACE_ORDERS, { input })
    const uuid = data.placeOrders.bulkUuid
    const failed = await waitForBulk(gateway, uuid)
    expect(failed.status).toBe('FINISHED_WITH_FAILURE')
    expect(failed.counts).toMatchObject({ complete: 1, notRetriablyFailed: 2, rejected: 1 })

    const byCode = (await gateway.gql(OPERATIONS, { uuid, errorCode: 'PERMANENT_FAILURE' })).data.bulk.operations.edges.map((e: any) => e.node)
    expect(byCode.map((op: any) => op.index)).toEqual([1, 3])
    expect(byCode[0].data.customerEmail).toBe('erp-a@example.com')

    // Acknowledged while it had failed; a retry makes it need attention again.
    await gateway.gql('mutation ($uuid: ID!) { acknowledgeBulk(uuid: $uuid) { uuid } }', { uuid })
    await gateway.sql.query('DELETE FROM test_fault')
    const RETRY = 'mutation ($uuid: ID!, $ids: [ID!], $codes: [String!]) { retryBulk(uuid: $uuid, operationIds: $ids, errorCodes: $codes) { status counts { open complete notRetriablyFailed rejected } } }'
    // Only operation 1 first.
    const first = await gateway.gql(RETRY, { uuid, ids: [byCode[0].id] })
    expect(first.errors).toBeUndefined()
    expect(first.data.retryBulk.status).toBe('IN_PROGRESS')
    expect(first.data.retryBulk.counts).toMatchObject({ open: 1, notRetriablyFailed: 1, rejected: 1 })
    expect((await gateway.gql('query ($uuid: ID!) { bulk(uuid: $uuid) { acknowledged } }', { uuid })).data.bulk.acknowledged).toBe(false)
    await waitForBulk(gateway, uuid)
    // Then everything that failed with that code: operation 3. Never the REJECTED or COMPLETE ones.
    await gateway.gql(RETRY, { uuid, codes: ['PERMANENT_FAILURE'] })
    const done = await waitForBulk(gateway, uuid)
    expect(done.status).toBe('FINISHED_WITH_FAILURE') // the rejected item stays rejected
    expect(done.counts).toEqual({ open: 0, complete: 3, retriablyFailed: 0, notRetriablyFailed: 0, rejected: 1 })
    const operations = done.operations.edges.map((e: any) => e.node)
    expect(operations.map((op: any) => op.status)).toEqual(['COMPLETE', 'COMPLETE', 'REJECTED', 'COMPLETE'])
    expect(operations[1].attempts).toBe(2)
    expect(operations[0].attempts).toBe(1)
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders o JOIN operation op ON op.id = o.operation_id WHERE op.bulk_uuid = $1', [uuid])
    expect(rows[0].n).toBe(3)
  })

  it('changes nothing for a bulk without failures, and answers NOT_FOUND for an unknown one', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    await waitForBulk(gateway, data.placeOrder.bulkUuid)
    const before = await countRows()
    const retried = await gateway.gql('mutation ($uuid: ID!) { retryBulk(uuid: $uuid) { status } }', { uuid: data.placeOrder.bulkUuid })
    expect(retried.data.retryBulk.status).toBe('FINISHED_SUCCESSFULLY')
    expect(await countRows()).toEqual(before)
    const unknown = await gateway.gql('mutation { retryBulk(uuid: "00000000-0000-4000-8000-000000000000") { status } }')
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })
})

describe('cancelBulk', () => {
  it('cancels the operations not yet begun while the bulk is half processed; the running one finishes', async () => {
    const input = Array.from({ length: 12 }, (_, i) => order({ customerEmail: `slow${i}@example.com` }))
    const { data } = await gateway.gql(PLACE_ORDERS, { input })
    const uuid = data.placeOrders.bulkUuid
    await eventually(async () => {
      const bulk = (await gateway.gql(BULK, { uuid })).data.bulk
      return bulk.counts.complete >= 3 ? bulk : undefined
    }, 30_000, 'three operations to complete')
    const CANCEL = 'mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { status counts { open complete canceled } } }'
    const canceled = (await gateway.gql(CANCEL, { uuid })).data.cancelBulk
    expect(canceled.counts.canceled).toBeGreaterThanOrEqual(6)

    const bulk = await waitForBulk(gateway, uuid, ['CANCELED'])
    const operations = bulk.operations.edges.map((e: any) => e.node)
    const complete = operations.filter((op: any) => op.status === 'COMPLETE').length
    const canceledOps = operations.filter((op: any) => op.status === 'CANCELED')
    expect(complete + canceledOps.length).toBe(12)
    expect(complete).toBeGreaterThanOrEqual(3)
    expect(canceledOps.every((op: any) => op.attempts === 0 && op.errorCode === 'CANCELED')).toBe(true)
    // Their jobs were cancelled in pg-boss, and no order was created for them.
    // (A bulk's operations travel in chunks, a job for each: the jobs are those the operations name.)
    const { rows: jobs } = await gateway.sql.query(`SELECT j.state FROM pgboss.job j
      WHERE j.id IN (SELECT job_id FROM operation WHERE id = ANY($1::uuid[]))`, [canceledOps.map((op: any) => op.id)])
    expect(jobs.length).toBeGreaterThan(0)
    expect(jobs.every(job => job.state === 'cancelled')).toBe(true)
    const { rows: orders } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders WHERE operation_id = ANY($1::uuid[])', [canceledOps.map((op: any) => op.id)])
    expect(orders[0].n).toBe(0)

    // Idempotent.
    const again = (await gateway.gql(CANCEL, { uuid })).data.cancelBulk
    expect(again).toEqual({ status: 'CANCELED', counts: { open: 0, complete, canceled: canceledOps.length } })
  })

  it('races a batch being run: the cancel waits for the operations a worker holds, which finish; the others are canceled; its answer is final', async () => {
    // A worker holds the operations it runs by a row lock, not by a written start: the cancel waits
    // for them, and a worker claiming after the cancel finds the rest CANCELED (issue 17, item 3).
    for (let round = 0; round < 2; round++) {
      const input = Array.from({ length: 6 }, (_, i) => order({ customerEmail: `held${round}-${i}@example.com` }))
      const { data } = await gateway.gql(PLACE_ORDERS, { input })
      const uuid = data.placeOrders.bulkUuid
      // A batch is being run: its first order sleeps in the trigger, inside the job transaction.
      await eventually(async () => {
        const { rows } = await gateway.sql.query(`SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event = 'PgSleep' AND query LIKE '%INSERT INTO orders%'`)
        return rows.length > 0 ? true : undefined
      }, 30_000, 'a batch of the bulk to be running')
      const canceled = (await gateway.gql('mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { status counts { open complete canceled } } }', { uuid })).data.cancelBulk
      const answeredAt = Date.now()
      // Answered once the held operations had finished: nothing is left open, nothing runs later.
      expect(canceled.counts.open).toBe(0)
      expect(canceled.counts.complete).toBeGreaterThanOrEqual(1)
      expect(canceled.counts.complete + canceled.counts.canceled).toBe(6)

      const { rows } = await gateway.sql.query(`SELECT o.status, o.attempts, o.started_at, o.finished_at,
          (SELECT count(*)::int FROM orders r WHERE r.operation_id = o.id) AS orders
        FROM operation o WHERE o.bulk_uuid = $1 ORDER BY o.request_index`, [uuid])
      const complete = rows.filter(row => row.status === 'COMPLETE')
      const canceledOps = rows.filter(row => row.status === 'CANCELED')
      // What the cancel answered is what there is: nothing was canceled or completed after it, or twice.
      expect({ complete: complete.length, canceled: canceledOps.length }).toEqual({ complete: canceled.counts.complete, canceled: canceled.counts.canceled })
      for (const row of complete) expect({ orders: row.orders, attempts: row.attempts, begun: row.started_at <= row.finished_at }).toEqual({ orders: 1, attempts: 1, begun: true })
      for (const row of canceledOps) expect({ orders: row.orders, attempts: row.attempts, started_at: row.started_at }).toEqual({ orders: 0, attempts: 0, started_at: null })
      // The held ones had finished when the cancel answered: it waited for their worker (the database
      // runs on this machine, so its clock is the test's).
      for (const row of complete) expect(row.finished_at.getTime()).toBeLessThanOrEqual(answeredAt)
    }
  }, 60_000)
})

describe('acknowledgeBulk and bulks', () => {
  it('dismisses only finished bulks, and bulks(acknowledged: false) lists what needs attention, newest first', async () => {
    const LIST = `query ($first: Int, $after: String, $status: BulkStatus, $acknowledged: Boolean, $createdAfter: DateTime) {
      bulks(first: $first, after: $after, status: $status, acknowledged: $acknowledged, createdAfter: $createdAfter) {
        edges { node { uuid status acknowledged createdAt } } pageInfo { hasNextPage endCursor } } }`
    const since = new Date().toISOString()
    const uuids: string[] = []
    for (let i = 0; i < 3; i++) uuids.push((await gateway.gql(PLACE_ORDER, { input: order() })).data.placeOrder.bulkUuid)
    const rejected = (await gateway.gql(PLACE_ORDER, { input: order({ currency: 'x' }) })).data.placeOrder.bulkUuid
    uuids.push(rejected)
    for (const uuid of uuids) await waitForBulk(gateway, uuid)

    const listed = await gateway.gql(LIST, { first: 2, createdAfter: since })
    expect(listed.errors).toEqual(undefined)
    const page1 = listed.data.bulks
    expect(page1.edges.map((e: any) => e.node.uuid)).toEqual([uuids[3], uuids[2]])
    expect(page1.pageInfo.hasNextPage).toBe(true)
    const page2 = (await gateway.gql(LIST, { first: 2, after: page1.pageInfo.endCursor, createdAfter: since })).data.bulks
    expect(page2.edges.map((e: any) => e.node.uuid)).toEqual([uuids[1], uuids[0]])
    const failures = (await gateway.gql(LIST, { status: 'FINISHED_WITH_FAILURE', createdAfter: since })).data.bulks
    expect(failures.edges.map((e: any) => e.node.uuid)).toEqual([rejected])

    const ACK = 'mutation ($uuid: ID!) { acknowledgeBulk(uuid: $uuid) { uuid acknowledged acknowledgedAt } }'
    const acked = (await gateway.gql(ACK, { uuid: uuids[0] })).data.acknowledgeBulk
    expect(acked).toMatchObject({ uuid: uuids[0], acknowledged: true })
    const open = (await gateway.gql(LIST, { acknowledged: false, createdAfter: since })).data.bulks
    expect(open.edges.map((e: any) => e.node.uuid)).toEqual([uuids[3], uuids[2], uuids[1]])
    const done = (await gateway.gql(LIST, { acknowledged: true, createdAfter: since })).data.bulks
    expect(done.edges.map((e: any) => e.node.uuid)).toEqual([uuids[0]])

    // A bulk still running cannot be acknowledged.
    const slow = (await gateway.gql(PLACE_ORDERS, { input: Array.from({ length: 5 }, () => order({ customerEmail: 'slow-ack@example.com' })) })).data.placeOrders.bulkUuid
    const refused = await gateway.gql(ACK, { uuid: slow })
    expect(refused.errors?.[0]?.extensions?.code).toBe('BULK_NOT_FINISHED')
    await waitForBulk(gateway, slow)

    const badCursor = await gateway.gql(LIST, { first: 1, after: 'bm9wZQ' })
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })
})

describe('operation', () => {
  it('answers by id with its bulk, attempts and times', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    const bulk = await waitForBulk(gateway, data.placeOrder.bulkUuid)
    const id = bulk.operations.edges[0].node.id
    const { data: found } = await gateway.gql(`query ($id: ID!) { operation(id: $id) {
      id status attempts startedAt finishedAt nextRetryAt data result bulk { uuid status } } }`, { id })
    expect(found.operation).toMatchObject({ id, status: 'COMPLETE', attempts: 1, nextRetryAt: null, bulk: { uuid: data.placeOrder.bulkUuid, status: 'FINISHED_SUCCESSFULLY' } })
    expect(found.operation.data.customerEmail).toBe('ada@example.com')
    expect(found.operation.result.orderNumber).toMatch(/^ORD-/)
    expect(new Date(found.operation.finishedAt) >= new Date(found.operation.startedAt)).toBe(true)
    const missing = await gateway.gql('{ operation(id: "00000000-0000-4000-8000-000000000000") { id } }')
    expect(missing.data.operation).toBeNull()
  })
})

describe('an operation waiting for a retry', () => {
  it('shows when its next attempt is due, and cancelBulk cancels it with its scheduled job', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order({ customerEmail: 'always-busy@example.com' }) })
    const uuid = data.placeOrder.bulkUuid
    const QUERY = 'query ($id: ID!) { operation(id: $id) { status errorCode attempts nextRetryAt } }'
    const id = (await gateway.gql(BULK, { uuid })).data.bulk.operations.edges[0].node.id
    const waiting = await eventually(async () => {
      const op = (await gateway.gql(QUERY, { id })).data.operation
      return op.status === 'RETRIABLY_FAILED' && op.nextRetryAt !== null ? op : undefined
    }, 20_000, 'the operation to wait for a retry')
    expect(waiting.errorCode).toBe('TRANSIENT_FAILURE')
    expect(Date.parse(waiting.nextRetryAt)).toBeGreaterThan(Date.now() - 5000)
    const canceled = (await gateway.gql('mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { status counts { canceled } } }', { uuid })).data.cancelBulk
    expect(canceled).toEqual({ status: 'CANCELED', counts: { canceled: 1 } })
    expect((await gateway.gql(QUERY, { id })).data.operation).toMatchObject({ status: 'CANCELED', nextRetryAt: null })
  })
})

describe('errorPolicy', () => {
  it('REJECT_EVERYTHING writes and enqueues nothing when one item is invalid, and reports every item', async () => {
    const before = await countRows()
    const { data, errors } = await gateway.gql(`mutation ($input: [PlaceOrderInput!]!) {
      placeOrders(input: $input, errorPolicy: REJECT_EVERYTHING) { bulkUuid errors requestItems { id status errorMessage } } }`,
    { input: [order(), order({ currency: 'nope' }), order()] })
    expect(errors).toBeUndefined()
    expect(data.placeOrders.errors).toBe(true)
    expect(data.placeOrders.requestItems.map((item: any) => item.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED'])
    expect(data.placeOrders.requestItems[1].errorMessage).toContain('currency')
    expect(data.placeOrders.requestItems[0].errorMessage).toContain('REJECT_EVERYTHING')
    expect(await countRows()).toEqual(before)
    expect((await gateway.gql(BULK, { uuid: data.placeOrders.bulkUuid })).data.bulk).toBeNull()
  })

  it('REJECT_EVERYTHING accepts a bulk whose items are all valid', async () => {
    const { data } = await gateway.gql(`mutation ($input: [PlaceOrderInput!]!) {
      placeOrders(input: $input, errorPolicy: REJECT_EVERYTHING) { bulkUuid errors } }`, { input: [order(), order()] })
    expect(data.placeOrders.errors).toBe(false)
    expect((await waitForBulk(gateway, data.placeOrders.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
  })
})

describe('idempotency', () => {
  const PLACE = 'mutation ($input: [PlaceOrderInput!]!, $key: String) { placeOrders(input: $input, idempotencyKey: $key) { bulkUuid errors } }'

  it('answers a repeated request with the first response and enqueues nothing again', async () => {
    const first = await gateway.gql(PLACE, { input: [order(), order()], key: 'order-batch-1' })
    const before = await countRows()
    const again = await gateway.gql(PLACE, { input: [order(), order()], key: 'order-batch-1' })
    expect(again.data.placeOrders).toEqual(first.data.placeOrders)
    expect(await countRows()).toEqual(before)
  })

  it('takes the key from the Idempotency-Key header too', async () => {
    const send = async (): Promise<any> => await (await fetch(gateway.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'header-key-1', authorization: `Bearer ${gateway.adminToken}` },
      body: JSON.stringify({ query: PLACE_ORDER, variables: { input: order() } })
    })).json()
    const first = await send()
    const second = await send()
    expect(second.data.placeOrder.bulkUuid).toBe(first.data.placeOrder.bulkUuid)
  })

  it('refuses the same key with a different payload, with a typed error, writing nothing', async () => {
    await gateway.gql(PLACE, { input: [order()], key: 'order-batch-2' })
    const before = await countRows()
    const other = await gateway.gql(PLACE, { input: [order({ customerEmail: 'someone-else@example.com' })], key: 'order-batch-2' })
    expect(other.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect(await countRows()).toEqual(before)
  })

  it('gives two racing identical requests one bulk', async () => {
    const before = await countRows()
    const input = Array.from({ length: 50 }, () => order())
    const [a, b] = await Promise.all([gateway.gql(PLACE, { input, key: 'race-1' }), gateway.gql(PLACE, { input, key: 'race-1' })])
    expect(a.errors).toBeUndefined()
    expect(b.errors).toBeUndefined()
    expect(a.data.placeOrders.bulkUuid).toBe(b.data.placeOrders.bulkUuid)
    const after = await countRows()
    expect(after.bulks - before.bulks).toBe(1)
    expect(after.operations - before.operations).toBe(50)
  })
})

describe('placeOrdersFromFile', () => {
  it('accepts a JSONL upload (GraphQL multipart request), one order a line, rejecting bad lines', async () => {
    const lines = [
      JSON.stringify(order()),
      '',
      '{ not json',
      JSON.stringify(order({ items: [{ sku: 'A', quantity: 'two', unitPrice: '1.00' }] })),
      JSON.stringify(order({ extra: true })),
      JSON.stringify(order({ customerEmail: 'jsonl@example.com' }))
    ].join('\n') + '\n'
    const form = new FormData()
    form.set('operations', JSON.stringify({
      query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, description: "upload") { bulkUuid errors requestItems { id status errorMessage } } }',
      variables: { file: null }
    }))
    form.set('map', JSON.stringify({ 0: ['variables.file'] }))
    form.set('0', new Blob([lines], { type: 'application/jsonl' }), 'orders.jsonl')
    const response = await fetch(gateway.httpUrl, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1', authorization: `Bearer ${gateway.adminToken}` } })
    const { data, errors } = await response.json() as any
    expect(errors).toEqual(undefined)
    const items = data.placeOrdersFromFile.requestItems
    expect(items.map((item: any) => item.status)).toEqual(['ACCEPTED', 'REJECTED', 'REJECTED', 'REJECTED', 'ACCEPTED'])
    expect(items[1].errorMessage).toMatch(/^line 3: not JSON/)
    expect(items[2].errorMessage).toContain('line 4: items[0].quantity must be a whole number')
    expect(items[3].errorMessage).toContain('line 5: extra is not a field of PlaceOrderInput')
    const bulk = await waitForBulk(gateway, data.placeOrdersFromFile.bulkUuid)
    expect(bulk).toMatchObject({ description: 'upload', operationCount: 5, counts: { complete: 2, rejected: 3 } })
  })
})
