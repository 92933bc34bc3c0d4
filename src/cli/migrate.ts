import { ConfigError, loadConfig } from '../config.ts'
import { DatabaseUnavailableError, openDatabase } from '../db/database.ts'
import { EmbeddedPostgresError } from '../db/embedded.ts'
import { migrate } from '../db/migrate.ts'
import { createPool } from '../db/pool.ts'
import { createLogger } from '../log.ts'

/** `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
try {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const database = await openDatabase(config, log)
  const pool = createPool(database.url, 1, 'order-ops-gateway:migrate', log)
  try {
    const applied = await migrate(pool, log)
    log.info(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
  } finally {
    await pool.end()
    if (database.embedded?.owned) await database.embedded.stop()
  }
} catch (error) {
  const known = error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof EmbeddedPostgresError
  process.stderr.write(`migrate: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`)
  process.exit(1)
}
