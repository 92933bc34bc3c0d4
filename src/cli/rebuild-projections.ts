import { rebuildProjections } from '../orders/rebuild.ts'
import { migrate } from '../platform/db/migrate.ts'
import { withDatabase } from './withDatabase.ts'

/** `npm run projections:rebuild`: the orders and inventory read models folded again from the event log. */
await withDatabase('projections:rebuild', async (pool, log) => {
  await migrate(pool, log)
  const started = Date.now()
  const counts = await rebuildProjections(pool)
  log.info(`read models rebuilt from the event log: ${counts.orders} order(s), ${counts.inventory} SKU(s) in ${Date.now() - started} ms`)
})
