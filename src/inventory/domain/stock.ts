/** What orders and inventory say to each other about stock: lines, shortages, why a reservation failed. */

/** Why a stock reservation failed; the code the placement fails with. */
export const STOCK_FAILURE_CODE = Object.freeze({
  /** A line asks for more than its SKU has available. */
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  /** A line's SKU is not in the catalog (no stock was ever recorded for it). Named first when both apply. */
  UNKNOWN_SKU: 'UNKNOWN_SKU'
} as const)
export type StockFailureCode = (typeof STOCK_FAILURE_CODE)[keyof typeof STOCK_FAILURE_CODE]

/** Units of one SKU, as reserved and released. */
export interface StockLine { readonly sku: string, readonly quantity: number }

/** A SKU that could not be reserved: `available` is 0 for an unknown SKU. */
export interface StockShortage { readonly sku: string, readonly requested: number, readonly available: number }

/** The stock an order needs: its lines added up per SKU, in SKU order (the order inventory streams are appended in). */
export function stockLines (order: { readonly lines: readonly StockLine[] }): StockLine[] {
  const bySku = new Map<string, number>()
  for (const line of order.lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity)
  return [...bySku].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([sku, quantity]) => ({ sku, quantity }))
}
