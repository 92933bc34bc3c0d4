import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { killAll, spawnMain } from './helpers/processes.ts'

const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { bulkUuid requestItems { id status orderNumber } } }'
const CANCEL = 'mutation ($number: String!) { cancelOrder(number: $number) { bulkUuid errors requestItems { id status orderNumber errorMessage } } }'
const OPERATION_TIMES = 'query ($uuid: ID!) { bulk(uuid: $uuid) { status operations { edges { node { status result errorCode resultMessage startedAt finishedAt } } } } }'

let gateway: TestGateway
// The gateway alone: orders and cancellations are accepted while no worker runs, so that both wait
// in their queues; then workers start and take both queues at once.
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'] })
  await gateway.sql.query(`CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.customer_email = 'doomed@example.com' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_fail BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_fail();`)
})
afterAll(async () => {
  await killAll()
  await gateway.stop()
})

async function operation (uuid: string): Promise<any> {
  return (await gateway.gql(OPERATION_TIMES, { uuid })).data.bulk.operations.edges[0].node
}

describe('per-order ordering', () => {
  it('gives the order its number at acceptance, and runs a cancellation accepted after it only once it is placed', async () => {
    const placed: Array<{ bulk: string, number: string }> = []
    for (let i = 0; i < 5; i++) {
      const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
      const [item] = data.placeOrder.requestItems
      expect(item.orderNumber).toMatch(/^ORD-\d{8}$/)
      placed.push({ bulk: data.placeOrder.bulkUuid, number: item.orderNumber })
    }
    const cancels: string[] = []
    for (const { number } of placed) {
      const { data } = await gateway.gql(CANCEL, { number })
      expect(data.cancelOrder.requestItems).toEqual([{ id: 0, status: 'ACCEPTED', orderNumber: number, errorMessage: null }])
      cancels.push(data.cancelOrder.bulkUuid)
    }

    // Both queues are full now; one worker process takes them concurrently. Its payment provider
    // takes 5 s per call, so that each cancellation arrives while its order's chain is under way
    // (a completed order can no longer be canceled).
    const worker = spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', PAYMENT_LATENCY_MS: '5000' })
    for (const [i, { bulk, number }] of placed.entries()) {
      await waitForBulk(gateway, bulk)
      await waitForBulk(gateway, cancels[i]!)
      const placement = await operation(bulk)
      const cancellation = await operation(cancels[i]!)
      expect(placement).toMatchObject({ status: 'COMPLETE', result: { orderNumber: number } })
      expect(cancellation).toMatchObject({ status: 'COMPLETE', result: { orderNumber: number, status: 'CANCELED' } })
      // Never overtaken: the cancellation began only after the placement had finished.
      expect(Date.parse(cancellation.startedAt)).toBeGreaterThanOrEqual(Date.parse(placement.finishedAt))
    }
    const { rows } = await gateway.sql.query('SELECT order_number, status FROM orders WHERE order_number = ANY($1) ORDER BY order_number', [placed.map(p => p.number)])
    // Canceled: CANCELING while the compensations (and the answer of the capture under way) come, CANCELED after.
    expect(rows.map(row => row.order_number)).toEqual(placed.map(p => p.number).sort())
    for (const row of rows) expect(['CANCELING', 'CANCELED']).toContain(row.status)

    // Canceling again changes nothing and says so.
    const again = (await gateway.gql(CANCEL, { number: placed[0]!.number })).data.cancelOrder
    await waitForBulk(gateway, again.bulkUuid)
    expect(await operation(again.bulkUuid)).toMatchObject({ status: 'COMPLETE', result: { status: 'CANCELED' } })
    worker.process.kill('SIGTERM')
    expect((await worker.exited).code).toBe(0)
  })

  it('refuses a cancellation of an order that is not the caller\'s or does not exist, as the same REJECTED item', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    const number = data.placeOrder.requestItems[0].orderNumber
    const mallory = await gateway.createToken('mallory')
    const foreign = (await gateway.gql(CANCEL, { number }, mallory)).data.cancelOrder.requestItems[0]
    const missing = (await gateway.gql(CANCEL, { number: 'ORD-99999999' }, mallory)).data.cancelOrder.requestItems[0]
    expect(foreign).toMatchObject({ status: 'REJECTED', errorMessage: `no order ${number}` })
    expect(missing).toMatchObject({ status: 'REJECTED', errorMessage: 'no order ORD-99999999' })
    const malformed = (await gateway.gql(CANCEL, { number: 'nope' })).data.cancelOrder.requestItems[0]
    expect(malformed.errorMessage).toContain('must be an order number')
  })

  it('fails a cancellation whose order was never placed, after the placement failed', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order({ customerEmail: 'doomed@example.com' }) })
    const number = data.placeOrder.requestItems[0].orderNumber
    const cancel = (await gateway.gql(CANCEL, { number })).data.cancelOrder
    const worker = spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn' })
    await waitForBulk(gateway, cancel.bulkUuid)
    expect(await operation(data.placeOrder.bulkUuid)).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', errorCode: 'PERMANENT_FAILURE' })
    expect(await operation(cancel.bulkUuid)).toMatchObject({
      status: 'NOT_RETRIABLY_FAILED', errorCode: 'ORDER_NOT_PLACED', resultMessage: `order ${number} was never placed (its placement failed)`
    })
    worker.process.kill('SIGTERM')
    await worker.exited
  })
})
