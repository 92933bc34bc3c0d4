/** What an order line of an export may carry beyond the order itself. */
export type OrderExportInclude = 'STEPS' | 'EVENTS'

/** What an exportOrders operation carries (src/orders/export.ts writes its file). */
export interface OrderExportData {
  /** Whose orders (null: everyone's, asked by an admin). */
  readonly owner: string | null
  readonly filter: {
    /** An order status (OrderViewStatus). */
    readonly status?: string | null
    /** ISO 8601; placed at or after it. */
    readonly placedFrom?: string | null
    /** ISO 8601; placed before it. */
    readonly placedTo?: string | null
    /** Any case. */
    readonly customerEmail?: string | null
    /** A SKU among its lines. */
    readonly sku?: string | null
  }
  readonly include: readonly OrderExportInclude[]
}

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
