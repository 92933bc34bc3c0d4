import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../src/platform/db/pool.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { createLogger } from '../src/platform/log.ts'
import { insertBulkWithOperations, insertOperations, operationRows, type NewBulk, type NewOperation } from '../src/operations/sql/bulks.ts'
import { insertBulksWithOperations } from '../src/operations/sql/groupAccept.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'

// No foreign key ties an operation to its bulk any more (migrations/0030: its check cost a look-up
// per inserted row); the insert statements themselves refuse an operation whose bulk they cannot
// see. Retention deleting a bulk's operations with it is tested in test/retention.test.ts.
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

function newBulk (operationCount: number): NewBulk {
  return {
    uuid: randomUUID(),
    owner: 'test',
    ownerRole: 'admin',
    description: null,
    operationCount,
    notifyUrl: null,
    kind: 'placement',
    createdBy: null,
    notAfter: null
  }
}

function newOperations (count: number, from = 0): NewOperation[] {
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    index: from + i,
    topic: 'order.place',
    status: 'OPEN',
    data: { n: from + i },
    dataHash: 'h',
    errorCode: null,
    message: null,
    orderingKey: null,
    numberOrder: true
  }))
}

async function operationsOf (bulkUuid: string): Promise<number> {
  const { rows: [row] } = await pool.query('SELECT count(*)::int AS n FROM operation WHERE bulk_uuid = $1', [bulkUuid])
  return row.n
}

describe('an operation is written only with its bulk', () => {
  it('writes a bulk and its chunks, in one transaction', async () => {
    const bulk = newBulk(5)
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      expect(await run(client, insertBulkWithOperations(bulk, operationRows(newOperations(3))))).toHaveLength(3)
      expect(await run(client, insertOperations(bulk.uuid, operationRows(newOperations(2, 3))))).toHaveLength(2)
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    expect(await operationsOf(bulk.uuid)).toBe(5)
  })

  it('refuses a chunk whose bulk does not exist', async () => {
    const missing = randomUUID()
    await expect(run(pool, insertOperations(missing, operationRows(newOperations(2))))).rejects.toMatchObject({ code: '23502', column: 'bulk_uuid' })
    expect(await operationsOf(missing)).toBe(0)
  })

  it('refuses a chunk whose bulk another transaction has not committed', async () => {
    const bulk = newBulk(2)
    const writer = await pool.connect()
    try {
      await writer.query('BEGIN')
      await run(writer, insertBulkWithOperations(bulk, operationRows(newOperations(1))))
      await expect(run(pool, insertOperations(bulk.uuid, operationRows(newOperations(1, 1))))).rejects.toMatchObject({ code: '23502' })
      await writer.query('ROLLBACK')
    } finally {
      writer.release()
    }
    expect(await operationsOf(bulk.uuid)).toBe(0)
  })

  it('refuses, in a group commit, an operation that names a bulk the group does not write', async () => {
    const written = newBulk(1)
    const other = randomUUID()
    const [mine, stray] = newOperations(2)
    await expect(run(pool, insertBulksWithOperations([written], [{ bulkUuid: written.uuid, operation: mine! }, { bulkUuid: other, operation: stray! }])))
      .rejects.toMatchObject({ code: '23502', column: 'bulk_uuid' })
    expect(await operationsOf(written.uuid)).toBe(0)
    expect(await operationsOf(other)).toBe(0)
    expect(await run(pool, insertBulksWithOperations([written], [{ bulkUuid: written.uuid, operation: mine! }]))).toHaveLength(1)
    expect(await operationsOf(written.uuid)).toBe(1)
  })
})
