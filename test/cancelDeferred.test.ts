import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, type TestGateway } from './helpers/gateway.ts'

// cancelBulk against the row locks of issue 17, item 3 (operations claimed by a row lock, not a write).
// A slow placement holds its order; a cancelOrder on the same order is then deferred by its worker
// (deferOperations, in the job transaction). The deferral's row lock is made to last with a trigger
// that sleeps in that very UPDATE while test_hold_deferral has a row, standing for the rest of the
// job transaction (pg-boss insert and complete) on a loaded machine.
const SETUP = `
  CREATE FUNCTION test_slow_place() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.customer_email LIKE 'slow-review%' THEN PERFORM pg_sleep(4); END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_slow_place BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_slow_place();
  CREATE TABLE test_hold_deferral (on_ boolean);
  CREATE FUNCTION test_hold_deferral() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_hold_deferral) THEN PERFORM pg_sleep(3); END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER test_hold_deferral AFTER UPDATE ON operation FOR EACH ROW
    WHEN (OLD.job_id IS DISTINCT FROM NEW.job_id AND NEW.topic = 'order.cancel' AND NEW.status = 'OPEN' AND OLD.status = 'OPEN')
    EXECUTE FUNCTION test_hold_deferral();`

let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({ env: { WORKER_TOPICS: 'order.place,order.cancel' } })
  await gateway.sql.query(SETUP)
})
afterAll(async () => { await gateway.stop() })

async function sleeping (fragment: string): Promise<true | undefined> {
  const { rows } = await gateway.sql.query(`SELECT 1 FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event = 'PgSleep' AND query LIKE $1`, [`%${fragment}%`])
  return rows.length > 0 ? true : undefined
}

describe('cancelBulk against a deferred operation', () => {
  it('cancels an operation that waits for an earlier one on its order, even while its deferral is being written', async () => {
    const placed = await gateway.gql('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { requestItems { orderNumber } } }',
      { input: order({ customerEmail: 'slow-review@example.com' }) })
    const number: string = placed.data.placeOrder.requestItems[0].orderNumber
    await eventually(async () => await sleeping('INSERT INTO orders'), 30_000, 'the placement to be running')

    await gateway.sql.query('INSERT INTO test_hold_deferral VALUES (true)')
    const accepted = await gateway.gql('mutation ($number: String!) { cancelOrder(number: $number) { bulkUuid } }', { number })
    const uuid: string = accepted.data.cancelOrder.bulkUuid
    // The cancelOrder's worker found the placement unfinished and is deferring it: its row is locked, nothing of it runs.
    await eventually(async () => await sleeping('UPDATE operation SET job_id'), 30_000, 'the deferral to hold the row')

    const canceled = await gateway.gql('mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { status counts { open canceled } } }', { uuid })
    await gateway.sql.query('DELETE FROM test_hold_deferral')
    // What the cancel answered, and what became of the operation it was asked to cancel.
    const final = await eventually(async () => {
      const { rows: [op] } = await gateway.sql.query('SELECT status, attempts, started_at FROM operation WHERE bulk_uuid = $1', [uuid])
      return ['OPEN', 'RETRIABLY_FAILED'].includes(op.status) ? undefined : op
    }, 30_000, 'the cancelOrder operation to end')
    // The placement ends after its sleep; the order's status then says whether the cancelOrder ran.
    const orderRow = await eventually(async () => (await gateway.sql.query('SELECT status FROM orders WHERE order_number = $1', [number])).rows[0], 30_000, 'the order')
    expect({ answered: canceled.data.cancelBulk, operation: final.status, attempts: final.attempts, order: orderRow.status })
      .toEqual({ answered: { status: 'CANCELED', counts: { open: 0, canceled: 1 } }, operation: 'CANCELED', attempts: 0, order: 'PLACED' })
  }, 60_000)
})
