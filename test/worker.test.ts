import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDER, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'

// Failures are injected into the real database with triggers on `orders`, keyed by the customer's
// email: the worker's own code runs unchanged. Sequences count attempts, since nextval() is not
// rolled back with the failed transaction.
const FAULTS = `
  CREATE SEQUENCE test_transient_seq;
  CREATE TABLE test_history (operation_id uuid, status text, error_code text, at timestamptz DEFAULT clock_timestamp());
  CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.customer_email = 'transient@example.com' AND nextval('test_transient_seq') <= 2 THEN
      RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = 'serialization_failure';
    -- By attempt, not by a sequence: the runner tries a failing batch again in parts. attempts counts
    -- the attempts that ended, so the first two fail.
    ELSIF NEW.customer_email = 'chunk-transient@example.com' AND (SELECT attempts FROM operation WHERE id = NEW.operation_id) < 2 THEN
      RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = 'serialization_failure';
    ELSIF NEW.customer_email = 'always@example.com' THEN
      RAISE EXCEPTION 'injected deadlock' USING ERRCODE = 'deadlock_detected';
    ELSIF NEW.customer_email = 'permanent@example.com' THEN
      RAISE EXCEPTION 'injected check violation' USING ERRCODE = 'check_violation';
    ELSIF NEW.customer_email = 'slow@example.com' THEN
      PERFORM pg_sleep(3);
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_fault BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_fault();
  CREATE FUNCTION test_record() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
      INSERT INTO test_history (operation_id, status, error_code) VALUES (NEW.id, NEW.status, NEW.error_code);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER test_record AFTER UPDATE ON operation FOR EACH ROW EXECUTE FUNCTION test_record();
  -- Every committed write of an operation, status changed or not.
  CREATE TABLE test_writes (operation_id uuid);
  CREATE FUNCTION test_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO test_writes VALUES (NEW.id); RETURN NULL; END $$;
  CREATE TRIGGER test_count_write AFTER UPDATE ON operation FOR EACH ROW EXECUTE FUNCTION test_count_write();`

let gateway: TestGateway
beforeAll(async () => {
  // Placements only: these tests are about the operation runner, and the faults above (a 3 s sleep on
  // each orders write) would also slow every step of the post-order chain past its 2 s expiry.
  gateway = await startGateway({
    // Bulks of 5 or more go out in chunks of 5 (BULK_CHUNK_SIZE); smaller ones as a job per operation.
    env: { JOB_RETRY_LIMIT: '2', JOB_RETRY_DELAY_SECONDS: '0', JOB_EXPIRE_SECONDS: '2', PGBOSS_MONITOR_INTERVAL_SECONDS: '1', WORKER_TOPICS: 'order.place', BULK_CHUNK_SIZE: '5' }
  })
  await gateway.sql.query(FAULTS)
})
afterAll(async () => { await gateway.stop() })

async function operationsOf (bulkUuid: string): Promise<any[]> {
  const { rows } = await gateway.sql.query('SELECT * FROM operation WHERE bulk_uuid = $1 ORDER BY request_index', [bulkUuid])
  return rows
}

async function writesOf (operationIds: readonly string[]): Promise<number[]> {
  const { rows } = await gateway.sql.query(`SELECT (SELECT count(*)::int FROM test_writes w WHERE w.operation_id = i) AS n
    FROM unnest($1::uuid[]) WITH ORDINALITY AS t (i, k) ORDER BY k`, [operationIds])
  return rows.map(r => r.n)
}

async function historyOf (operationId: string): Promise<string[]> {
  const { rows } = await gateway.sql.query('SELECT status, error_code FROM test_history WHERE operation_id = $1 ORDER BY at', [operationId])
  return rows.map(r => r.error_code ? `${r.status}:${r.error_code}` : r.status)
}

describe('order placement worker', () => {
  it('retries a transient failure with backoff and completes, creating the order once', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order({ customerEmail: 'transient@example.com' }) })
    const bulk = await waitForBulk(gateway, data.placeOrder.bulkUuid)
    expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
    const [operation] = await operationsOf(data.placeOrder.bulkUuid)
    expect(operation).toMatchObject({ status: 'COMPLETE', attempts: 3, error_code: null, result_message: null })
    expect(await historyOf(operation.id)).toEqual([
      // While retried, an operation keeps the last error it met, so a client sees why it is taking longer;
      // it is written once an attempt ends (the second failure changes no status), never as it begins.
      'RETRIABLY_FAILED:TRANSIENT_FAILURE', 'COMPLETE'
    ])
    // One write per attempt: each attempt's start is written with its end (issue 17, item 3).
    expect(await writesOf([operation.id])).toEqual([3])
    expect(Date.parse(operation.started_at)).toBeLessThanOrEqual(Date.parse(operation.finished_at))
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders WHERE operation_id = $1', [operation.id])
    expect(rows[0].n).toBe(1)
  })

  it('makes an operation NOT_RETRIABLY_FAILED once its retries are used up', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order({ customerEmail: 'always@example.com' }) })
    const bulk = await waitForBulk(gateway, data.placeOrder.bulkUuid)
    expect(bulk.status).toBe('FINISHED_WITH_FAILURE')
    expect(bulk.counts).toMatchObject({ notRetriablyFailed: 1, retriablyFailed: 0, open: 0 })
    const [operation] = await operationsOf(data.placeOrder.bulkUuid)
    expect(operation).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', error_code: 'RETRIES_EXHAUSTED', attempts: 3 })
    // The condition, not the server's text (which may carry SQL or values).
    expect(operation.result_message).toBe('deadlock detected (SQLSTATE 40P01)')
    expect(operation.finished_at).not.toBeNull()
  })

  it('fails a permanent failure at once, alone: the rest of its batch completes', async () => {
    const input = [order(), order({ customerEmail: 'permanent@example.com' }), order(), order()]
    const { data } = await gateway.gql(PLACE_ORDERS, { input })
    const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid)
    expect(bulk.status).toBe('FINISHED_WITH_FAILURE')
    expect(bulk.counts).toEqual({ open: 0, complete: 3, retriablyFailed: 0, notRetriablyFailed: 1, rejected: 0 })
    const operations = await operationsOf(data.placeOrders.bulkUuid)
    expect(operations[1]).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', error_code: 'PERMANENT_FAILURE', attempts: 1 })
    expect(operations[1].result_message).toBe('check violation (SQLSTATE 23514)')
    expect(operations.filter(op => op.status === 'COMPLETE').every(op => op.attempts === 1 && op.started_at !== null)).toBe(true)
    // Written once each, when it ended: the failed one's savepoint was rolled back with the batch's first try.
    expect(await writesOf(operations.map(op => op.id))).toEqual([1, 1, 1, 1])
  })

  it('retries an operation of a chunk that fails transiently alone, by a job of its own; the others settle once, with the chunk', async () => {
    const input = [order(), order(), order({ customerEmail: 'chunk-transient@example.com' }), order(), order()]
    const { data } = await gateway.gql(PLACE_ORDERS, { input })
    const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid)
    expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
    const operations = await operationsOf(data.placeOrders.bulkUuid)
    const [flaky] = operations.splice(2, 1)
    expect(flaky).toMatchObject({ status: 'COMPLETE', attempts: 3 })
    expect(await historyOf(flaky.id)).toEqual(['RETRIABLY_FAILED:TRANSIENT_FAILURE', 'COMPLETE'])
    // The four others: one job (the chunk's), one attempt, COMPLETE once.
    expect(new Set(operations.map(op => op.job_id)).size).toBe(1)
    expect(operations.every(op => op.status === 'COMPLETE' && op.attempts === 1)).toBe(true)
    for (const op of operations) expect(await historyOf(op.id)).toEqual(['COMPLETE'])
    const { rows: jobs } = await gateway.sql.query('SELECT id, data, state, retry_count FROM pgboss.job WHERE id = ANY($1::uuid[]) ORDER BY retry_count',
      [[operations[0].job_id, flaky.job_id]])
    expect(jobs).toEqual([
      { id: operations[0].job_id, data: { operationIds: [...operations.slice(0, 2), flaky, ...operations.slice(2)].map(op => op.id) }, state: 'completed', retry_count: 0 },
      // Its own job: the chunk's first attempt was the first, this job's first the second, its retry the third.
      { id: flaky.job_id, data: { operationId: flaky.id }, state: 'completed', retry_count: 1 }
    ])
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n, count(DISTINCT operation_id)::int AS distinct FROM orders WHERE operation_id = ANY($1::uuid[])',
      [[flaky, ...operations].map(op => op.id)])
    expect(rows[0]).toEqual({ n: 5, distinct: 5 })
  })

  it('does nothing the second time a job is delivered', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    await waitForBulk(gateway, data.placeOrder.bulkUuid)
    const [before] = await operationsOf(data.placeOrder.bulkUuid)
    // The same message again, as a queue that delivers at least once may do.
    const jobId = await gateway.app.boss.send('order.place', { operationId: before.id })
    await eventually(async () => {
      const { rows } = await gateway.sql.query('SELECT state FROM pgboss.job WHERE id = $1', [jobId])
      return rows[0]?.state === 'completed' ? true : undefined
    }, 20_000, 'the duplicate job to complete')
    const [after] = await operationsOf(data.placeOrder.bulkUuid)
    expect(after).toEqual(before)
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders WHERE operation_id = $1', [before.id])
    expect(rows[0].n).toBe(1)
  })

  it('keeps the sharded counters equal to the operations themselves', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: Array.from({ length: 250 }, (_, i) => order(i % 50 === 0 ? { currency: '?' } : {})) })
    await waitForBulk(gateway, data.placeOrders.bulkUuid)
    const { rows } = await gateway.sql.query(`
      SELECT b.uuid,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.status = 'OPEN')::int AS open,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.status = 'COMPLETE')::int AS complete,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.status = 'RETRIABLY_FAILED')::int AS retriably_failed,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.status = 'NOT_RETRIABLY_FAILED')::int AS not_retriably_failed,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.status = 'REJECTED')::int AS rejected,
             (SELECT count(*) FROM operation o WHERE o.bulk_uuid = b.uuid AND o.started_at IS NOT NULL)::int AS started,
             (SELECT row(sum(open), sum(complete), sum(retriably_failed), sum(not_retriably_failed), sum(rejected), sum(started))::text
                FROM bulk_progress p WHERE p.bulk_uuid = b.uuid) AS counters
      FROM bulk b`)
    expect(rows.length).toBeGreaterThanOrEqual(5)
    for (const row of rows) {
      expect(row.counters).toBe(`(${row.open},${row.complete},${row.retriably_failed},${row.not_retriably_failed},${row.rejected},${row.started})`)
    }
    const big = rows.find(row => row.uuid === data.placeOrders.bulkUuid)
    expect(big).toMatchObject({ complete: 245, rejected: 5 })
  })

  it('gives up on an operation whose attempts keep running out of time: NOT_RETRIABLY_FAILED, never OPEN forever', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order({ customerEmail: 'slow@example.com' }) })
    const bulk = await waitForBulk(gateway, data.placeOrder.bulkUuid, ['FINISHED_WITH_FAILURE'], 60_000)
    expect(bulk.counts.notRetriablyFailed).toBe(1)
    const [operation] = await operationsOf(data.placeOrder.bulkUuid)
    // attempts counts the attempts that ended: these three were cut short, and rolled back.
    expect(operation).toMatchObject({ status: 'NOT_RETRIABLY_FAILED', error_code: 'EXPIRED', attempts: 0, started_at: null })
    expect(operation.result_message).toContain('given up after 3 attempts')
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM orders WHERE operation_id = $1', [operation.id])
    expect(rows[0].n).toBe(0)
  }, 90_000)
})
