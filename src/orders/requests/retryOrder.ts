import { BULK_KIND } from '../../operations/domain/kind.ts'
import { ORDER_TOPICS } from '../topics.ts'
import { orderOperation } from './orderOperation.ts'

/**
 * Resumes an order's chain (src/orders/retry.ts): the steps (or compensations) that gave up are
 * enqueued again, once the outside system they call is fixed.
 */
export const RETRY_ORDER = orderOperation(ORDER_TOPICS.retryOrder.queue, BULK_KIND.RETRY)
