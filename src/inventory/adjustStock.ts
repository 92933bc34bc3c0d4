/**
 * The consumer of stock adjustments (`inventory.adjust`), run by the operation runner inside the
 * job's transaction: the AdjustStock command on each SKU's inventory stream. A SKU not yet known
 * is created by its first adjustment; one that would go below zero available is refused with
 * NEGATIVE_STOCK and changes nothing.
 */
import type { Db } from '../platform/db/pool.ts'
import { InventoryError } from './domain/errors.ts'
import { OperationRefused, type ClaimedOperation, type OperationProcessor } from '../operations/runner.ts'
import { InventoryChanges } from './changes.ts'

/** What an adjustStock operation carries: a signed change of one SKU's units. */
export interface StockAdjustmentData { readonly sku: string, readonly quantity: number }

export const adjustStock: OperationProcessor = async (tx: Db, operations: readonly ClaimedOperation[]) => {
  const inventory = new InventoryChanges()
  await inventory.lock(tx, operations.map(op => (op.data as StockAdjustmentData).sku))
  const now = new Date()
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const { sku, quantity } = op.data as StockAdjustmentData
    try {
      inventory.decide({ type: 'AdjustStock', data: { sku, quantity }, now }, { correlationId: op.bulk_uuid, causationId: op.id })
      results.set(op.id, { sku, available: inventory.states.get(sku)!.available })
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error
      results.set(op.id, new OperationRefused(error.code, error.message))
    }
  }
  await inventory.commit(tx)
  return results
}
