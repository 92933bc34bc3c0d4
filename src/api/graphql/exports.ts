import { GraphQLError } from 'graphql'
import { z } from 'zod'
import { BULK_KIND } from '../../operations/domain/kind.ts'
import { BULK_STATUS } from '../../operations/domain/status.ts'
import { REQUEST_ERROR_CODE } from '../../operations/errors.ts'
import { EXPORT_INVENTORY, type InventoryExportData } from '../../inventory/export.ts'
import { orderExportProblem, type OrderExportData } from '../../orders/domain/export.ts'
import { EXPORT_ORDERS } from '../../orders/requests/exportOrders.ts'
import { builder, viewer } from './builder.ts'
import { READ_COST } from './complexity.ts'
import { accept, accepting, descriptionArg, idempotencyKeyArg, NOT_AFTER_DESCRIPTION, notAfterArg, notifyUrlArg } from './mutation.ts'
import { storableString } from './query.ts'
import { AsyncResponseRef } from './types/asyncResponse.ts'
import { BulkRef } from './types/bulk.ts'
import { OrderStatusEnum } from './types/order.ts'

/**
 * Bulk exports (issue 15, part 2; Shopify's bulkOperationRunQuery): exportOrders and
 * exportInventory accept a bulk of kind EXPORT with one operation, whose worker writes the
 * matching rows to a JSONL file; `Bulk.export` follows it and gives the file's URL once it is whole.
 */

const OrderExportIncludeEnum = builder.enumType('OrderExportInclude', {
  description: 'What each line of an order export carries besides the order.',
  values: {
    STEPS: { description: "The order's chain steps, as `order { steps }` shows them." },
    EVENTS: { description: "The order's events, oldest first: `{ version, type, data, recordedAt }`." }
  }
})

const emailArg = storableString(320)
const skuArg = storableString(500)

const OrderExportFilter = builder.inputType('OrderExportFilter', {
  description: 'Which orders an export writes; every field given must match (none: all the caller may see).',
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum }),
    placedFrom: t.field({ type: 'DateTime', description: 'Placed at or after this time.' }),
    placedTo: t.field({ type: 'DateTime', description: 'Placed before this time.' }),
    customerEmail: t.string({ description: 'The customer email, in any case.', validate: emailArg }),
    sku: t.string({ description: 'A SKU among its lines.', validate: skuArg })
  })
})

interface ExportView { readonly uuid: string, readonly finished: boolean, readonly rowsTotal: number | null, readonly rowsWritten: number, readonly bytes: number }

const BulkExportRef = builder.objectRef<ExportView>('BulkExport').implement({
  description: "An export bulk's file: how far its worker is, and where to download it once whole.",
  fields: (t) => ({
    rowsTotal: t.int({ nullable: true, description: 'Rows the export will write, counted when its worker began; null before that.', resolve: (e) => e.rowsTotal }),
    rowsWritten: t.int({ description: 'Rows written so far (by the current attempt: a retried export starts its file again).', resolve: (e) => e.rowsWritten }),
    bytes: t.field({ type: 'SafeInt', description: 'Bytes written so far.', resolve: (e) => e.bytes }),
    progress: t.float({
      description: 'rowsWritten / rowsTotal (0 to 1); 1 once the file is whole.',
      resolve: (e) => e.finished ? 1 : e.rowsTotal ? Math.min(1, e.rowsWritten / e.rowsTotal) : 0
    }),
    url: t.string({
      nullable: true,
      description: 'The JSONL file, one object a line (GET with the same Authorization header; for its owner and admins), once the export has finished successfully; null before, and when it failed. Kept as long as the bulk.',
      resolve: (e, _, { services }) => e.finished ? services.exportUrl(e.uuid) : null
    })
  })
})

builder.objectField(BulkRef, 'export', (t) => t.field({
  type: BulkExportRef,
  nullable: true,
  description: 'The file of an EXPORT bulk, and its progress; null for other kinds.',
  complexity: READ_COST,
  resolve: async (bulk, _, { services }) => {
    if (bulk.kind !== BULK_KIND.EXPORT) return null
    const progress = await services.exportProgress(bulk.uuid)
    const finished = bulk.status === BULK_STATUS.FINISHED_SUCCESSFULLY
    return { uuid: bulk.uuid, finished, rowsTotal: progress?.rowsTotal ?? null, rowsWritten: progress?.rowsWritten ?? 0, bytes: progress?.bytes ?? 0 }
  }
}))

function badInput (message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: REQUEST_ERROR_CODE.BAD_USER_INPUT } })
}

builder.mutationFields((t) => {
  const common = {
    description: t.arg.string({ validate: descriptionArg }),
    idempotencyKey: t.arg.string({ description: 'As for placeOrders.', validate: idempotencyKeyArg }),
    notifyUrl: t.arg.string({ description: 'As for placeOrders (integration and admin callers).', validate: notifyUrlArg }),
    notAfter: t.arg({ type: 'DateTime', description: NOT_AFTER_DESCRIPTION, validate: notAfterArg })
  }
  return {
    exportOrders: t.field({
      type: AsyncResponseRef,
      description: 'Writes the orders a filter matches to a JSONL file, asynchronously, as a bulk of kind EXPORT with one operation: one order a line, oldest first, as `order` shows it (steps and events when `include` names them). ' +
        "Follow it with `bulk` or `bulkStatus`; `Bulk.export` gives its progress and, once finished, the file's URL. The caller's own orders; an admin's are everyone's, or `owner`'s.",
      args: {
        filter: t.arg({ type: OrderExportFilter }),
        include: t.arg({ type: [OrderExportIncludeEnum], validate: z.array(z.string()).max(2) }),
        owner: t.arg.string({ description: "Admins only: this owner's orders (default: everyone's).", validate: storableString(200) }),
        ...common
      },
      authScopes: (_, args) => accepting(args.notifyUrl),
      resolve: async (_, { filter, include, owner, ...args }, context) => {
        const own = viewer(context).owner
        if (own !== null && owner !== null && owner !== undefined) {
          throw new GraphQLError('exportOrders: only admins may name an owner; a caller exports its own orders', { extensions: { code: REQUEST_ERROR_CODE.FORBIDDEN } })
        }
        const data: OrderExportData = {
          owner: own ?? owner ?? null,
          filter: {
            status: filter?.status ?? null,
            placedFrom: filter?.placedFrom?.toISOString() ?? null,
            placedTo: filter?.placedTo?.toISOString() ?? null,
            customerEmail: filter?.customerEmail ?? null,
            sku: filter?.sku ?? null
          },
          include: [...new Set(include ?? [])]
        }
        const problem = orderExportProblem(data)
        if (problem !== null) throw badInput(`exportOrders: ${problem}`)
        return await accept(context, EXPORT_ORDERS, [{ data }], args)
      }
    }),
    exportInventory: t.field({
      type: AsyncResponseRef,
      description: "Writes SKUs' stock (every SKU, or those starting with `skuPrefix`) to a JSONL file, asynchronously, as exportOrders does: one SKU a line, in SKU order, with the fields of `inventory`.",
      args: { skuPrefix: t.arg.string({ validate: skuArg }), ...common },
      authScopes: (_, args) => accepting(args.notifyUrl),
      resolve: async (_, { skuPrefix, ...args }, context) => {
        const data: InventoryExportData = { skuPrefix: skuPrefix ?? null }
        return await accept(context, EXPORT_INVENTORY, [{ data }], args)
      }
    })
  }
})
