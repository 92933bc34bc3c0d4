import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations, migrate } from '../src/platform/db/migrate.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'

const log = createLogger('silent')
let db: TestDatabase
let pool: pg.Pool
beforeAll(async () => {
  db = await createTestDatabase()
  pool = testPool(db.url, 6)
})
afterAll(async () => {
  await pool.end()
  await db.drop()
})

describe('migrate', () => {
  it('applies every migration once, and a second run does nothing', async () => {
    const versions = listMigrations().map(m => m.version)
    expect(versions.length).toBeGreaterThanOrEqual(3)
    expect(versions).toEqual([...versions].sort((a, b) => a - b))

    expect(await migrate(pool, log)).toEqual(versions)
    expect(await migrate(pool, log)).toEqual([])

    const { rows } = await pool.query('SELECT version FROM schema_migration ORDER BY version')
    expect(rows.map(r => r.version)).toEqual(versions)
    const tables = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = \'public\' ORDER BY 1')
    expect(tables.rows.map(r => r.table_name)).toEqual(expect.arrayContaining(['bulk', 'bulk_progress', 'operation', 'orders', 'schema_migration']))
  })

  it('lets processes that start together race safely: each migration is applied by exactly one', async () => {
    const fresh = await createTestDatabase()
    const pools = Array.from({ length: 4 }, () => testPool(fresh.url, 1))
    try {
      const results = await Promise.all(pools.map(async p => await migrate(p, log)))
      const applied = results.flat().sort((a, b) => a - b)
      expect(applied).toEqual(listMigrations().map(m => m.version))
    } finally {
      await Promise.all(pools.map(async p => await p.end()))
      await fresh.drop()
    }
  })
})
