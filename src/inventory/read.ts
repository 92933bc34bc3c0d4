import { run, type Db } from '../platform/db/pool.ts'
import { selectInventory, type InventoryRow } from './sql/inventory.ts'

/** A SKU's stock as the read side serves it. */
export interface InventoryItemView {
  readonly sku: string
  /** Units in the warehouse: available + reserved. */
  readonly onHand: number
  /** Units on hand that may still be reserved. */
  readonly available: number
  /** Units on hand held by orders. */
  readonly reserved: number
  /** Units that left the warehouse with orders' shipments. */
  readonly shipped: number
  /** The time of the latest change. */
  readonly updatedAt: Date
}

/** A SKU's stock, or null for a SKU no adjustment created. */
export async function findInventoryItem (db: Db, sku: string): Promise<InventoryItemView | null> {
  const [row] = await run<InventoryRow>(db, selectInventory(sku))
  if (!row) return null
  // int8 columns arrive as numbers (src/platform/db/pool.ts); updated_at as pg parses timestamptz (or its text).
  const available = Number(row.available)
  const reserved = Number(row.reserved)
  return { sku: row.sku, onHand: available + reserved, available, reserved, shipped: Number(row.shipped), updatedAt: new Date(row.updated_at) }
}
