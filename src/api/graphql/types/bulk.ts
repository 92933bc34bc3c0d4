import { resolveCursorConnection } from '@pothos/plugin-relay'
import type { BulkView } from '../../../operations/read.ts'
import type { OperationRow } from '../../../operations/sql/bulks.ts'
import { BULK_STATUS, type OperationCounts } from '../../../operations/domain/status.ts'
import { BULK_KIND } from '../../../operations/domain/kind.ts'
import { builder, viewer } from '../builder.ts'
import { OPERATIONS_PAGE, pageCost, READ_COST } from '../complexity.ts'
import { decodeCursor, encodeCursor } from '../cursors.ts'
import { OperationRef, OperationStatusEnum } from './operation.ts'

export const BulkStatusEnum = builder.enumType('BulkStatus', {
  description: 'Derived from the operations, exactly: a final status only when every operation is final; CANCELED when the bulk ended by cancellation.',
  values: Object.values(BULK_STATUS)
})

export const BulkKindEnum = builder.enumType('BulkKind', {
  description: 'What a bulk does; every operation of a bulk is of its kind.',
  values: {
    PLACEMENT: { value: BULK_KIND.PLACEMENT, description: 'placeOrder, placeOrders, placeOrdersFromFile.' },
    CANCELLATION: { value: BULK_KIND.CANCELLATION, description: 'cancelOrder, cancelOrders.' },
    ADJUSTMENT: { value: BULK_KIND.ADJUSTMENT, description: 'adjustStock.' },
    RETRY: { value: BULK_KIND.RETRY, description: 'retryOrder, retryOrders.' },
    EXPORT: { value: BULK_KIND.EXPORT, description: 'exportOrders, exportInventory: one operation that writes a JSONL file (Bulk.export).' },
    IMPORT: { value: BULK_KIND.IMPORT, description: 'placeOrders and placeOrdersFromFile with mode: IMPORT (historical orders).' }
  }
})

export const OperationCountsRef = builder.objectRef<OperationCounts>('OperationCounts').implement({
  description: 'Operations of a bulk per status.',
  fields: (t) => ({
    open: t.exposeInt('open'),
    complete: t.exposeInt('complete'),
    retriablyFailed: t.exposeInt('retriablyFailed'),
    notRetriablyFailed: t.exposeInt('notRetriablyFailed'),
    rejected: t.exposeInt('rejected'),
    canceled: t.exposeInt('canceled'),
    expired: t.exposeInt('expired', { description: 'Not begun by the bulk\'s notAfter deadline, and never run.' })
  })
})

const isIndex = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0

export const BulkRef = builder.objectRef<BulkView>('Bulk').implement({
  description: 'One accepted request and its operations (Magento\'s bulk).',
  fields: (t) => ({
    uuid: t.exposeID('uuid'),
    description: t.exposeString('description', { nullable: true }),
    kind: t.field({ type: BulkKindEnum, resolve: (bulk) => bulk.kind }),
    // Admins only: a field of a bulk the caller can see, so an error names the field and nulls only it.
    owner: t.exposeString('owner', {
      nullable: true,
      authScopes: { admin: true },
      description: 'Who the bulk belongs to: the API token\'s owner, or `jwt:<subject>` (admins only).'
    }),
    createdBy: t.exposeString('createdBy', {
      nullable: true,
      authScopes: { admin: true },
      description: 'The credential that sent it: `token:<API token id>` or `jwt:<subject>`; null for bulks from before it was recorded (admins only).'
    }),
    status: t.field({ type: BulkStatusEnum, resolve: (bulk) => bulk.status }),
    operationCount: t.exposeInt('operationCount'),
    counts: t.field({ type: OperationCountsRef, resolve: (bulk) => bulk.counts }),
    progress: t.float({
      description: 'Fraction of operations that are final (0 to 1).',
      resolve: ({ counts, operationCount }) => operationCount === 0
        ? 1
        : (counts.complete + counts.notRetriablyFailed + counts.rejected + counts.canceled + counts.expired) / operationCount
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (bulk) => bulk.createdAt }),
    notAfter: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'The deadline it was accepted with: operations not begun by then end EXPIRED instead of running late; null: none.',
      resolve: (bulk) => bulk.notAfter
    }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the first operation began, known once an operation has ended an attempt (an export: once it has begun).', resolve: (bulk) => bulk.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the last operation finished; null until the bulk has.', resolve: (bulk) => bulk.finishedAt }),
    acknowledged: t.boolean({ description: 'Dismissed by acknowledgeBulk.', resolve: (bulk) => bulk.acknowledgedAt !== null }),
    acknowledgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (bulk) => bulk.acknowledgedAt }),
    operations: t.connection({
      type: OperationRef,
      description: "Operations in request order, optionally of one status or error code, with each one's data and result (Magento's detailed status).",
      complexity: pageCost(OPERATIONS_PAGE),
      args: {
        status: t.arg({ type: OperationStatusEnum }),
        errorCode: t.arg.string()
      },
      resolve: async (bulk, args, { services }) => await resolveCursorConnection<Promise<OperationRow[]>>(
        { args, toCursor: (op) => encodeCursor('operation', op.request_index), ...OPERATIONS_PAGE },
        async ({ before, after, limit, inverted }): Promise<OperationRow[]> => await services.operations(
          bulk.uuid,
          { status: args.status ?? null, errorCode: args.errorCode ?? null },
          { after: decodeCursor('operation', after, isIndex), before: decodeCursor('operation', before, isIndex), limit, inverted })
      )
    }, { name: 'OperationConnection' }, { name: 'OperationEdge' })
  })
})

builder.objectField(OperationRef, 'bulk', (t) => t.field({
  type: BulkRef,
  description: 'The bulk the operation belongs to.',
  complexity: READ_COST,
  // The operation was read through its bulk's owner, so its bulk is the viewer's too.
  resolve: async (op, _, context) => (await context.services.bulk(viewer(context), op.bulk_uuid))!
}))
