import type pg from 'pg'
import { rolledBack, run } from '../platform/db/pool.ts'
import { probeBulkUuid } from './sql/commitProbe.ts'

/**
 * Whether the acceptance that wrote bulk `uuid` committed, for an acceptance whose connection was
 * lost during its COMMIT (the `committed` option of `transaction`). Answering such a request with
 * an error when it did commit would make a client without an idempotency key send the same orders
 * again, and accept them twice; answering success when it did not would lose them. The probe
 * waits for the lost transaction to end, then finds its bulk or not.
 */
export function bulkCommitted (uuid: string): (pool: pg.Pool) => Promise<boolean> {
  return async (pool) => await rolledBack(pool, async (client) => (await run(client, probeBulkUuid(uuid))).length === 0)
}
