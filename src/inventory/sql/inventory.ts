import type { Query } from '../../platform/db/pool.ts'

/** A SKU's row: its stream's state and version (the inventory read model). */
export interface InventoryRow {
  sku: string
  available: number
  reserved: number
  /** Units shipped with orders (migration 0021). */
  shipped: number
  version: number
  /** The time of the latest event folded (ISO 8601). */
  updated_at: string
}

/**
 * Locks the rows of SKUs about to change, in SKU order (every writer locks in this order, so two
 * cannot deadlock), and answers their state; a SKU without a row is unknown.
 */
export function lockInventory (skus: readonly string[]): Query {
  return {
    text: `SELECT sku, available, reserved, shipped, version, to_json(updated_at) #>> '{}' AS updated_at
      FROM inventory WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE`,
    values: [skus]
  }
}

/** Writes SKUs' states at their new versions. */
export function upsertInventory (rows: readonly InventoryRow[]): Query {
  return {
    text: `INSERT INTO inventory AS i (sku, available, reserved, shipped, version, updated_at)
      SELECT r.sku, r.available, r.reserved, r.shipped, r.version, r.updated_at
      FROM jsonb_to_recordset($1::jsonb) AS r (sku text, available bigint, reserved bigint, shipped bigint, version int, updated_at timestamptz)
      ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available, reserved = EXCLUDED.reserved, shipped = EXCLUDED.shipped,
                                      version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
    values: [JSON.stringify(rows)]
  }
}

/** One SKU's stock. */
export function selectInventory (sku: string): Query {
  return { text: 'SELECT sku, available, reserved, shipped, version, updated_at FROM inventory WHERE sku = $1', values: [sku] }
}
