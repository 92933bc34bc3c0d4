import { BULK_KIND } from '../../operations/domain/kind.ts'
import { ORDER_TOPICS } from '../topics.ts'
import { orderOperation } from './orderOperation.ts'

/** Order cancellation (src/orders/cancellation.ts), after everything accepted before it on that order. */
export const CANCEL_ORDER = orderOperation(ORDER_TOPICS.cancelOrder.queue, BULK_KIND.CANCELLATION)
