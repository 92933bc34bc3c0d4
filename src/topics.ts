import { adjustStock } from './inventory/adjustStock.ts'
import { exportInventory } from './inventory/export.ts'
import { INVENTORY_TOPICS } from './inventory/topics.ts'
import type { TopicDefinition } from './operations/runner.ts'
import { cancelOrders } from './orders/cancellation.ts'
import { exportOrders } from './orders/export.ts'
import { placeOrders } from './orders/placement.ts'
import { retryOrders } from './orders/retry.ts'
import { ORDER_TOPICS } from './orders/topics.ts'
import { retryPolicyWith, type RetryOverrides } from './platform/jobs/retryPolicy.ts'

/**
 * The topic registry: which processor consumes each operation topic. The features name their
 * topics and write their processors; binding them here, at the top, keeps the operation runner
 * free of any feature (it takes whatever this list gives it).
 */
export const TOPICS = Object.freeze({
  placeOrder: { ...ORDER_TOPICS.placeOrder, process: placeOrders },
  cancelOrder: { ...ORDER_TOPICS.cancelOrder, process: cancelOrders },
  retryOrder: { ...ORDER_TOPICS.retryOrder, process: retryOrders },
  adjustStock: { ...INVENTORY_TOPICS.adjustStock, process: adjustStock },
  exportOrders: { ...ORDER_TOPICS.exportOrders, process: exportOrders },
  exportInventory: { ...INVENTORY_TOPICS.exportInventory, process: exportInventory }
} satisfies Record<string, TopicDefinition>)

/** The topics with the deployment's overrides applied (JOB_RETRY_LIMIT and friends). */
export function topicsWith (overrides: RetryOverrides): TopicDefinition[] {
  return Object.values(TOPICS).map(topic => ({ ...topic, ...retryPolicyWith(topic, overrides) }))
}
