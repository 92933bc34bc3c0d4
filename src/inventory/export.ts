/**
 * exportInventory (issue 15, part 2): the consumer of `inventory.export`. Writes every SKU's stock
 * (or those starting with a prefix) to the bulk's JSONL file (src/operations/exports.ts), one SKU a line.
 */
import type { OperationKind } from '../operations/accept.ts'
import { BULK_KIND } from '../operations/domain/kind.ts'
import { writeExport } from '../operations/exports.ts'
import type { OperationProcessor } from '../operations/runner.ts'
import { countInventoryToExport, selectInventoryExportLines } from './sql/export.ts'
import { INVENTORY_TOPICS } from './topics.ts'

/** What an exportInventory operation carries. */
export interface InventoryExportData {
  readonly skuPrefix: string | null
}

export const exportInventory: OperationProcessor = async (tx, operations, context) => {
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const { skuPrefix } = op.data as InventoryExportData
    results.set(op.id, await writeExport(tx, context, op.bulk_uuid, { count: countInventoryToExport(skuPrefix), rows: selectInventoryExportLines(skuPrefix) }))
  }
  return results
}

/** An export of stock levels (one operation). */
export const EXPORT_INVENTORY: OperationKind = {
  topic: INVENTORY_TOPICS.exportInventory.queue,
  bulkKind: BULK_KIND.EXPORT,
  check: async () => null,
  orderingKey: () => null,
  numberOrder: false
}
