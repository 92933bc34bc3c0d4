import { GraphQLError } from 'graphql'
import type { BulkView } from '../../operations/read.ts'
import { REQUEST_ERROR_CODE } from '../../operations/errors.ts'
import type { OrderView } from '../../orders/orderView.ts'
import { builder, viewer } from './builder.ts'
import { orderNumberArg, uuidArg } from './query.ts'
import { BulkRef } from './types/bulk.ts'
import { OrderRef } from './types/order.ts'

builder.subscriptionField('bulkStatus', (t) => t.field({
  type: BulkRef,
  description: "The bulk's current state, then every change, from whichever process makes it; completes when the bulk has finished.",
  args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
  subscribe: async (_, { uuid }, context) => {
    // Authorized like a query: another owner's bulk is not found.
    if (!await context.services.bulk(viewer(context), String(uuid))) {
      throw new GraphQLError(`no bulk ${String(uuid)}`, { extensions: { code: REQUEST_ERROR_CODE.NOT_FOUND } })
    }
    return context.services.watchBulk(String(uuid))
  },
  resolve: (view: BulkView) => view
}))

builder.subscriptionField('orderProgress', (t) => t.field({
  type: OrderRef,
  description: "The order's current state, then its state after each of its events (so every step is seen, also when several " +
    'commit at once), from whichever process records them; completes after a COMPLETED, CANCELED or FAILED state (a canceled order is ' +
    'CANCELING until its compensations are all done). ' +
    'An order accepted and not placed yet may be followed already: its first state is the placed order.',
  args: { number: t.arg.string({ required: true, validate: orderNumberArg }) },
  subscribe: async (_, { number }, context) => {
    // Authorized like a query: another owner's order is not found.
    const orderId = await context.services.orderId(viewer(context), number)
    if (orderId === null) throw new GraphQLError(`no order ${number}`, { extensions: { code: REQUEST_ERROR_CODE.NOT_FOUND } })
    return context.services.watchOrder(orderId)
  },
  resolve: (view: OrderView) => view
}))
