/**
 * exportOrders (issue 15, part 2): the consumer of `order.export`, run by the operation runner in
 * the job's transaction. It writes the orders an export's filter matches to the bulk's JSONL file
 * (src/operations/exports.ts), one order a line as the `order` query shows it, oldest first.
 */
import { writeExport } from '../operations/exports.ts'
import type { OperationProcessor } from '../operations/runner.ts'
import type { OrderViewStatus } from './orderView.ts'
import { countOrdersToExport, selectOrderExportLines } from './sql/export.ts'

/** What an order line may carry beyond the order itself. */
export type OrderExportInclude = 'STEPS' | 'EVENTS'

/** What an exportOrders operation carries. */
export interface OrderExportData {
  /** Whose orders (null: everyone's, asked by an admin). */
  readonly owner: string | null
  readonly filter: {
    readonly status?: OrderViewStatus | null
    /** ISO 8601; placed at or after it. */
    readonly placedFrom?: string | null
    /** ISO 8601; placed before it. */
    readonly placedTo?: string | null
    readonly customerEmail?: string | null
    readonly sku?: string | null
  }
  readonly include: readonly OrderExportInclude[]
}

export const exportOrders: OperationProcessor = async (tx, operations, context) => {
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const data = op.data as OrderExportData
    results.set(op.id, await writeExport(tx, context, op.bulk_uuid, { count: countOrdersToExport(data), rows: selectOrderExportLines(data) }))
  }
  return results
}
