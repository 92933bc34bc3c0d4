import { operationTopic } from '../operations/topics.ts'

/** The inventory operations' topics (their processors are bound in src/topics.ts). */
export const INVENTORY_TOPICS = Object.freeze({
  /** Changes one SKU's stock by a signed quantity (adjustStock); a SKU not yet known is created. */
  adjustStock: operationTopic('inventory.adjust', { batchSize: 100, localConcurrency: 1 })
})
