/**
 * exportOrders (issue 15, part 2): the consumer of `order.export`, run by the operation runner in
 * the job's transaction. It writes the orders an export's filter matches to the bulk's JSONL file
 * (src/operations/exports.ts), one order a line as the `order` query shows it, oldest first.
 */
import { writeExport } from '../operations/exports.ts'
import type { OperationProcessor } from '../operations/runner.ts'
import type { OrderExportData } from './domain/export.ts'
import { countOrdersToExport, selectOrderExportLines } from './sql/export.ts'

export const exportOrders: OperationProcessor = async (tx, operations, context) => {
  const results = new Map<string, unknown>()
  for (const op of operations) {
    const data = op.data as OrderExportData
    results.set(op.id, await writeExport(tx, context, op.bulk_uuid, { count: countOrdersToExport(data), rows: selectOrderExportLines(data) }))
  }
  return results
}
