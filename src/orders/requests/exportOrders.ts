import type { OperationKind } from '../../operations/accept.ts'
import { BULK_KIND } from '../../operations/domain/kind.ts'
import type { OrderExportData } from '../export.ts'
import { ORDER_TOPICS } from '../topics.ts'

/** Why an export's filter cannot be run, naming the field, or null. Pure. */
export function orderExportProblem (data: OrderExportData): string | null {
  const { placedFrom, placedTo } = data.filter
  for (const [name, value] of [['placedFrom', placedFrom], ['placedTo', placedTo]] as const) {
    if (value !== null && value !== undefined && Number.isNaN(Date.parse(value))) return `filter.${name} must be an ISO 8601 time, got "${value}"`
  }
  if (placedFrom && placedTo && Date.parse(placedFrom) >= Date.parse(placedTo)) {
    return `filter.placedFrom must be before filter.placedTo, got ${placedFrom} and ${placedTo}`
  }
  return null
}

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
