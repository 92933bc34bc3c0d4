import type { Query } from '../../platform/db/pool.ts'

/** The SKUs an inventory export writes: those starting with $1 (null: every SKU). */
const MATCHING = 'FROM inventory i WHERE ($1::text IS NULL OR starts_with(i.sku, $1))'

export function countInventoryToExport (skuPrefix: string | null): Query {
  return { text: `SELECT count(*)::text AS total ${MATCHING}`, values: [skuPrefix] }
}

/** One line per SKU, in SKU order, with the fields of the `inventory` query. */
export function selectInventoryExportLines (skuPrefix: string | null): Query {
  return {
    text: `SELECT jsonb_build_object('sku', i.sku, 'onHand', i.available + i.reserved, 'available', i.available,
               'reserved', i.reserved, 'shipped', i.shipped,
               'updatedAt', to_char(i.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text AS line
      ${MATCHING}
      ORDER BY i.sku`,
    values: [skuPrefix]
  }
}
