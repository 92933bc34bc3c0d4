import { rebuildProjections } from '../orders/rebuild.ts'
import { migrate } from '../platform/db/migrate.ts'
import { withDatabase } from './withDatabase.ts'

/** Batches between two progress lines (each batch is 1,000 streams). */
const REPORT_EVERY = 50

/**
 * `npm run projections:rebuild`: the orders and inventory read models folded again from the event
 * log into shadow tables, then swapped in (src/orders/rebuild.ts); the gateway may run meanwhile.
 */
await withDatabase('projections:rebuild', async (pool, log) => {
  await migrate(pool, log)
  const started = Date.now()
  let batches = 0
  const counts = await rebuildProjections(pool, {
    onBatch: (progress) => {
      if (++batches % REPORT_EVERY === 0) log.info('rebuilding', { readModel: progress.readModel, streams: progress.streams })
    }
  })
  log.info(`read models rebuilt from the event log: ${counts.orders} order(s), ${counts.inventory} SKU(s) in ${Date.now() - started} ms`)
})
