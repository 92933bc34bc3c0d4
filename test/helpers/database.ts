import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

/** A database of its own for one test file, created on the run's PostgreSQL and dropped afterwards. */
export interface TestDatabase {
  readonly url: string
  readonly name: string
  drop (): Promise<void>
}

/**
 * A pool on a test database. A test database is dropped WITH (FORCE) at the end of its file,
 * which ends any connection still open on it: such an error is expected then, not a failure.
 */
export function testPool (url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => {})
  return pool
}

export async function createTestDatabase (): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl')
  const name = `test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop () {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      try {
        // pool.end() resolves before the server has closed every backend; give them a moment.
        for (let waited = 0; waited < 5000; waited += 50) {
          const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])
          if (rows[0].n === 0) break
          await new Promise(resolve => setTimeout(resolve, 50))
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    }
  }
}
