import type { StockAdjustmentData } from '../adjustStock.ts'
import { MAX_STOCK_CHANGE } from '../domain/inventory.ts'
import { INVENTORY_TOPICS } from '../topics.ts'
import type { OperationKind } from '../../operations/accept.ts'
import { BULK_KIND } from '../../operations/domain/kind.ts'

/** What inventory.sku holds (migrations/0012). */
const MAX_SKU_LENGTH = 500

/** Why a stock adjustment cannot be accepted, naming the field, or null. Pure. */
export function stockAdjustmentProblem (data: unknown): string | null {
  const { sku, quantity } = data as StockAdjustmentData
  const problems: string[] = []
  if (typeof sku !== 'string' || sku.trim() === '') problems.push('sku must not be empty')
  else if (sku.length > MAX_SKU_LENGTH) problems.push(`sku must be at most ${MAX_SKU_LENGTH} characters, got ${sku.length}`)
  if (!Number.isSafeInteger(quantity) || quantity === 0 || Math.abs(quantity) > MAX_STOCK_CHANGE) {
    problems.push(`quantity must be a whole number from -${MAX_STOCK_CHANGE} to ${MAX_STOCK_CHANGE} other than 0, got ${String(quantity)}`)
  }
  return problems.length === 0 ? null : problems.join('; ')
}

/**
 * A signed change of one SKU's stock (admins; the first adjustment of a SKU creates it). Its
 * ordering key is the SKU, so that adjustments of one SKU run in the order they were accepted,
 * whichever bulks carry them; one that would take the stock below zero fails with NEGATIVE_STOCK.
 */
export const ADJUST_STOCK: OperationKind = {
  topic: INVENTORY_TOPICS.adjustStock.queue,
  bulkKind: BULK_KIND.ADJUSTMENT,
  check: async (data: unknown) => stockAdjustmentProblem(data),
  orderingKey: (data: unknown) => `sku:${(data as StockAdjustmentData).sku}`,
  numberOrder: false
}
