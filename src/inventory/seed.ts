/**
 * The demo catalog (issue 4): SKUs DEMO-0001 to DEMO-0100 with ample stock, so that `npm start`
 * followed by the README's example order works. Seeded on the embedded default at start, and by
 * `npm run seed` on any database. Each SKU is created by an InventoryAdjusted event like any other
 * adjustment; a SKU that exists already is left as it is, so seeding twice changes nothing.
 */
import type pg from 'pg'
import { transaction } from '../platform/db/pool.ts'
import { InventoryChanges } from './changes.ts'

export const DEMO_SKUS: readonly string[] = Object.freeze(Array.from({ length: 100 }, (_, i) => `DEMO-${String(i + 1).padStart(4, '0')}`))

/** Units each demo SKU starts with: enough for the benchmark's 100,000-order bulk several times over. */
export const DEMO_STOCK = 1_000_000

/** Creates the demo SKUs that do not exist yet; answers how many were created. */
export async function seedDemoCatalog (pool: pg.Pool, now: Date = new Date()): Promise<number> {
  return await transaction(pool, async (tx) => {
    const inventory = new InventoryChanges()
    await inventory.lock(tx, DEMO_SKUS)
    let created = 0
    for (const sku of DEMO_SKUS) {
      if (inventory.states.get(sku)?.known === true) continue
      inventory.decide({ type: 'AdjustStock', data: { sku, quantity: DEMO_STOCK }, now }, { correlationId: 'seed', causationId: 'npm run seed' })
      created += 1
    }
    await inventory.commit(tx)
    return created
  })
}
