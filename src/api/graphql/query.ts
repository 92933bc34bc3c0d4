import { resolveCursorConnection } from '@pothos/plugin-relay'
import { z } from 'zod'
import { unstorableText } from '../../operations/domain/storable.ts'
import type { BulkView } from '../../operations/read.ts'
import type { BulkKey } from '../../operations/sql/bulks.ts'
import type { OrderKey } from '../../orders/sql/list.ts'
import type { OrderView } from '../../orders/orderView.ts'
import { builder, viewer } from './builder.ts'
import { BULKS_PAGE, ORDERS_PAGE, pageCost } from './complexity.ts'
import { decodeCursor, encodeCursor } from './cursors.ts'
import { BulkKindEnum, BulkRef, BulkStatusEnum } from './types/bulk.ts'
import { InventoryItemRef } from './types/inventoryItem.ts'
import { OperationRef } from './types/operation.ts'
import { OrderRef, OrderStatusEnum } from './types/order.ts'

export const uuidArg = z.guid({ message: 'must be a UUID such as 0b9e6a4e-4c59-4a43-9f5f-0f3b4a2d6b7e' })
/** A string argument PostgreSQL can take as a value: without a NUL or an unpaired surrogate, which it refuses (issue #12, item 9). */
export function storableString (max: number): z.ZodType<string> {
  return z.string().max(max).refine(value => unstorableText(value) === null, 'must not contain a NUL character (U+0000) or an unpaired surrogate')
}
export const orderNumberArg = storableString(40)
const skuArg = storableString(500)

/** A timestamptz as PostgreSQL prints it (`::text`): the exact key of a keyset cursor. */
const TIMESTAMPTZ_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/

const isBulkKey = (value: unknown): value is BulkKey =>
  typeof value === 'object' && value !== null && typeof (value as BulkKey).createdAt === 'string' &&
  typeof (value as BulkKey).uuid === 'string' && uuidArg.safeParse((value as BulkKey).uuid).success &&
  TIMESTAMPTZ_TEXT.test((value as BulkKey).createdAt)

const isOrderKey = (value: unknown): value is OrderKey =>
  typeof value === 'object' && value !== null && typeof (value as OrderKey).placedAt === 'string' &&
  typeof (value as OrderKey).id === 'string' && uuidArg.safeParse((value as OrderKey).id).success &&
  TIMESTAMPTZ_TEXT.test((value as OrderKey).placedAt)

builder.queryField('bulk', (t) => t.field({
  type: BulkRef,
  nullable: true,
  description: 'A bulk by its uuid; null when there is none.',
  args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
  resolve: async (_, { uuid }, context) => await context.services.bulk(viewer(context), String(uuid))
}))

builder.queryField('bulks', (t) => t.connection({
  type: BulkRef,
  description: "The caller's bulks (an admin's: everyone's), newest first, optionally filtered; `acknowledged: false` lists what still needs attention, `owner` one owner's (for admins).",
  complexity: pageCost(BULKS_PAGE),
  args: {
    status: t.arg({ type: BulkStatusEnum }),
    createdAfter: t.arg({ type: 'DateTime' }),
    createdBefore: t.arg({ type: 'DateTime' }),
    acknowledged: t.arg.boolean(),
    owner: t.arg.string({ description: "Only this owner's bulks (`bulks` lists only the caller's own unless the caller is an admin).", validate: z.string().max(300) }),
    kind: t.arg({ type: BulkKindEnum })
  },
  resolve: async (_, args, context) => await resolveCursorConnection<Promise<BulkView[]>>(
    { args, toCursor: (bulk) => encodeCursor('bulk', bulk.key), ...BULKS_PAGE },
    async ({ before, after, limit, inverted }): Promise<BulkView[]> => await context.services.bulks(
      viewer(context),
      {
        status: args.status ?? null,
        createdAfter: args.createdAfter ?? null,
        createdBefore: args.createdBefore ?? null,
        acknowledged: args.acknowledged ?? null,
        owner: args.owner ?? null,
        kind: args.kind ?? null
      },
      { after: decodeCursor('bulk', after, isBulkKey), before: decodeCursor('bulk', before, isBulkKey), limit, inverted })
  )
}, { name: 'BulkConnection' }, { name: 'BulkEdge' }))

builder.queryField('operation', (t) => t.field({
  type: OperationRef,
  nullable: true,
  description: 'An operation by its id; null when there is none.',
  args: { id: t.arg.id({ required: true, validate: uuidArg }) },
  resolve: async (_, { id }, context) => await context.services.operation(viewer(context), String(id))
}))

builder.queryField('order', (t) => t.field({
  type: OrderRef,
  nullable: true,
  description: "An order by its number; null when there is none, or it is another owner's (admins see every order), or it is accepted and not placed yet.",
  args: { number: t.arg.string({ required: true, validate: orderNumberArg }) },
  resolve: async (_, { number }, context) => await context.services.order(viewer(context), number)
}))

builder.queryField('orders', (t) => t.connection({
  type: OrderRef,
  description: "The caller's orders (an admin's: everyone's), newest first, optionally of one status.",
  complexity: pageCost(ORDERS_PAGE),
  args: { status: t.arg({ type: OrderStatusEnum }) },
  resolve: async (_, args, context) => {
    // The exact key of each order on the page, for its cursor.
    const keys = new WeakMap<OrderView, OrderKey>()
    return await resolveCursorConnection<Promise<OrderView[]>>(
      { args, toCursor: (order) => encodeCursor('order', keys.get(order)), ...ORDERS_PAGE },
      async ({ before, after, limit, inverted }): Promise<OrderView[]> => {
        const items = await context.services.orders(viewer(context), args.status ?? null,
          { after: decodeCursor('order', after, isOrderKey), before: decodeCursor('order', before, isOrderKey), limit, inverted })
        for (const item of items) keys.set(item.view, item.key)
        return items.map(item => item.view)
      })
  }
}, { name: 'OrderConnection' }, { name: 'OrderEdge' }))

builder.queryField('inventory', (t) => t.field({
  type: InventoryItemRef,
  nullable: true,
  description: "A SKU's stock; null for a SKU no adjustStock created.",
  args: { sku: t.arg.string({ required: true, validate: skuArg }) },
  resolve: async (_, { sku }, context) => await context.services.inventory(sku)
}))
