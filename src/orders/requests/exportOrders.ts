import type { OperationKind } from '../../operations/accept.ts'
import { BULK_KIND } from '../../operations/domain/kind.ts'
import { orderExportProblem, type OrderExportData } from '../domain/export.ts'
import { ORDER_TOPICS } from '../topics.ts'

/**
 * An export of orders (one operation; src/orders/export.ts writes its file). `owner` in its data is
 * decided by the caller's role before acceptance: its own orders, or for admins everyone's or one owner's.
 */
export const EXPORT_ORDERS: OperationKind = {
  topic: ORDER_TOPICS.exportOrders.queue,
  bulkKind: BULK_KIND.EXPORT,
  check: async (data: unknown) => orderExportProblem(data as OrderExportData),
  orderingKey: () => null,
  numberOrder: false
}
