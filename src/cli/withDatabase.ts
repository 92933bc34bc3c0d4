import type pg from 'pg'
import { ConfigError } from '../platform/configError.ts'
import { loadConfig } from '../config/config.ts'
import { DatabaseUnavailableError, openDatabase } from '../platform/db/database.ts'
import { EmbeddedPostgresError } from '../platform/db/embedded.ts'
import { createPool } from '../platform/db/pool.ts'
import { createLogger, type Logger } from '../platform/log.ts'

/**
 * What the database scripts (`npm run migrate`, `seed`, `projections:rebuild`) share: the database
 * at DATABASE_URL, or the embedded one (started, or joined when `npm start` runs it), migrated, one
 * connection; stopped again afterwards. A known failure (configuration, database unreachable)
 * ends the process with status 1 and one line; anything else with its stack.
 */
export async function withDatabase (script: string, work: (pool: pg.Pool, log: Logger) => Promise<void>): Promise<void> {
  try {
    const config = loadConfig()
    const log = createLogger(config.logLevel)
    const database = await openDatabase(config, log)
    const pool = createPool(database.url, 1, `order-ops-gateway:${script}`, log)
    try {
      await work(pool, log)
    } finally {
      await pool.end()
      if (database.embedded?.owned) await database.embedded.stop()
    }
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof EmbeddedPostgresError
    process.stderr.write(`${script}: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  }
}
