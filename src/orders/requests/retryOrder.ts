import { ORDER_TOPICS } from '../topics.ts'
import { orderOperation, type OrderOperationData } from './orderOperation.ts'

/** What a retryOrder operation carries. */
export type RetryOrderData = OrderOperationData

/**
 * Resumes an order's chain (src/orders/retry.ts): the steps (or compensations) that gave up are
 * enqueued again, once the outside system they call is fixed.
 */
export const RETRY_ORDER = orderOperation(ORDER_TOPICS.retryOrder.queue)
