import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { Logger } from '../log.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url))

/** Any fixed number: the advisory lock that lets one process at a time migrate. */
const MIGRATION_LOCK = 7_300_417_001

export interface Migration { version: number, name: string, file: string }

/** `migrations/NNNN_verb_noun.sql`, in version order. */
export function listMigrations (dir = MIGRATIONS_DIR): Migration[] {
  return fs.readdirSync(dir)
    .map(file => /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(match => ({ version: Number(match[1]), name: match[2]!, file: path.join(dir, match[0]) }))
    .sort((a, b) => a.version - b.version)
}

/**
 * Applies each pending migration once, each in its own transaction, while holding a
 * transaction-scoped advisory lock, so that processes starting together do not race:
 * the second waits, then finds the migration recorded and skips it.
 * Returns the versions this call applied.
 */
export async function migrate (pool: pg.Pool, log: Logger, dir = MIGRATIONS_DIR): Promise<number[]> {
  const applied: number[] = []
  for (const migration of listMigrations(dir)) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      // DDL on a large table may run longer than the pool's DB_STATEMENT_TIMEOUT_MS: not bounded here.
      await client.query('SET LOCAL statement_timeout = 0')
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migration (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      const { rowCount } = await client.query('SELECT 1 FROM schema_migration WHERE version = $1', [migration.version])
      if (rowCount === 0) {
        await client.query(fs.readFileSync(migration.file, 'utf8'))
        await client.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [migration.version, migration.name])
        applied.push(migration.version)
        log.info('migration applied', { version: migration.version, name: migration.name })
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw new Error(`migration ${path.basename(migration.file)} failed: ${(error as Error).message}`, { cause: error })
    } finally {
      client.release()
    }
  }
  return applied
}

/**
 * The versions of this build's migrations not recorded as applied (for readiness: a process must
 * not take work on a schema older than its code).
 */
export async function pendingMigrations (db: pg.Pool | pg.PoolClient, dir = MIGRATIONS_DIR): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migration')
  const applied = new Set(rows.map(row => row.version))
  return listMigrations(dir).map(migration => migration.version).filter(version => !applied.has(version))
}
