import { operationTopic } from '../operations/topics.ts'

/** The inventory operations' topics (their processors are bound in src/topics.ts). */
export const INVENTORY_TOPICS = Object.freeze({
  /** Changes one SKU's stock by a signed quantity (adjustStock); a SKU not yet known is created. */
  adjustStock: operationTopic('inventory.adjust', { batchSize: 100, localConcurrency: 1 }),
  /** Writes SKUs' stock to an export's file (src/inventory/export.ts); one export at a time per process. */
  exportInventory: { ...operationTopic('inventory.export', { batchSize: 1, localConcurrency: 1 }), expireInSeconds: 1800, recordsStart: true }
})
