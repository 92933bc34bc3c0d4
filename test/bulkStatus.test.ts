import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../src/platform/db/migrate.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'

// The bulk status is derived by the bulk_summary view from the counters the operation triggers
// keep. Bulks are written here directly in SQL, with the statuses each case needs.
let db: TestDatabase
let pool: pg.Pool
beforeAll(async () => {
  db = await createTestDatabase()
  pool = testPool(db.url, 2)
  await migrate(pool, createLogger('silent'))
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

/** A bulk with one operation per entry: its status, and whether it has begun. */
async function statusOf (operations: ReadonlyArray<[status: string, started: boolean]>): Promise<{ status: string, finished: boolean }> {
  const uuid = randomUUID()
  await pool.query("INSERT INTO bulk (uuid, owner, operation_count, kind) VALUES ($1, 'test', $2, 'placement')", [uuid, operations.length])
  for (const [index, [status, started]] of operations.entries()) {
    await pool.query(`INSERT INTO operation (id, bulk_uuid, request_index, topic, status, data, data_hash, started_at, finished_at)
      VALUES ($1, $2, $3, 'order.place', $4, '{}', '', $5, $6)`,
    [randomUUID(), uuid, index, status, started ? new Date() : null, ['COMPLETE', 'NOT_RETRIABLY_FAILED', 'REJECTED', 'CANCELED'].includes(status) ? new Date() : null])
  }
  const { rows: [row] } = await pool.query('SELECT status, finished_at FROM bulk_summary WHERE uuid = $1', [uuid])
  return { status: row.status, finished: row.finished_at !== null }
}

describe('bulk status (exact, unlike Magento #36911)', () => {
  it('is NOT_STARTED while no operation has begun', async () => {
    expect(await statusOf([['OPEN', false], ['OPEN', false]])).toEqual({ status: 'NOT_STARTED', finished: false })
    expect(await statusOf([['OPEN', false], ['REJECTED', false]])).toEqual({ status: 'NOT_STARTED', finished: false })
  })

  it('is IN_PROGRESS while any operation is open, running or waiting for a retry, even when others failed', async () => {
    expect(await statusOf([['OPEN', true], ['OPEN', false]])).toEqual({ status: 'IN_PROGRESS', finished: false })
    expect(await statusOf([['COMPLETE', true], ['OPEN', false]])).toEqual({ status: 'IN_PROGRESS', finished: false })
    expect(await statusOf([['RETRIABLY_FAILED', true], ['COMPLETE', true]])).toEqual({ status: 'IN_PROGRESS', finished: false })
    expect(await statusOf([['NOT_RETRIABLY_FAILED', true], ['OPEN', false]])).toEqual({ status: 'IN_PROGRESS', finished: false })
  })

  it('is FINISHED_SUCCESSFULLY only when every operation is COMPLETE', async () => {
    expect(await statusOf([['COMPLETE', true], ['COMPLETE', true]])).toEqual({ status: 'FINISHED_SUCCESSFULLY', finished: true })
  })

  it('is FINISHED_WITH_FAILURE when all are final and one failed or was rejected', async () => {
    expect(await statusOf([['COMPLETE', true], ['NOT_RETRIABLY_FAILED', true]])).toEqual({ status: 'FINISHED_WITH_FAILURE', finished: true })
    expect(await statusOf([['COMPLETE', true], ['REJECTED', false]])).toEqual({ status: 'FINISHED_WITH_FAILURE', finished: true })
    expect(await statusOf([['REJECTED', false]])).toEqual({ status: 'FINISHED_WITH_FAILURE', finished: true })
  })

  it('is CANCELED when all are final and the bulk was canceled', async () => {
    expect(await statusOf([['COMPLETE', true], ['CANCELED', false]])).toEqual({ status: 'CANCELED', finished: true })
    expect(await statusOf([['CANCELED', false], ['NOT_RETRIABLY_FAILED', true]])).toEqual({ status: 'CANCELED', finished: true })
  })
})
