import { DEMO_SKUS, seedDemoCatalog } from '../inventory/seed.ts'
import { migrate } from '../platform/db/migrate.ts'
import { withDatabase } from './withDatabase.ts'

/** `npm run seed`: the demo catalog (DEMO-0001 … DEMO-0100) on DATABASE_URL, or on the embedded database. */
await withDatabase('seed', async (pool, log) => {
  await migrate(pool, log)
  const created = await seedDemoCatalog(pool)
  log.info(created > 0 ? `demo catalog: ${created} SKU(s) created (${DEMO_SKUS[0]} to ${DEMO_SKUS.at(-1)})` : 'demo catalog: every SKU exists already')
})
