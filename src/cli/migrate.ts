import { migrate } from '../platform/db/migrate.ts'
import { withDatabase } from './withDatabase.ts'

/** `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
await withDatabase('migrate', async (pool, log) => {
  const applied = await migrate(pool, log)
  log.info(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
})
