import { GraphQLError } from 'graphql'
import { z } from 'zod'
import { RequestRejectedError, type AsyncResponse } from '../commands/acceptOrders.ts'
import type { PlaceOrderInput as PlaceOrderCommand } from '../domain/order/placeOrder.ts'
import { builder, type Context } from './builder.ts'
import { AsyncResponseRef } from './types/asyncResponse.ts'
import { PlaceOrderInput } from './types/placeOrderInput.ts'

/** A request the gateway cannot accept at all becomes a GraphQL error with a stable code; nothing was written. */
async function accept (services: Context['services'], inputs: readonly PlaceOrderCommand[], description: string | null): Promise<AsyncResponse> {
  try {
    return await services.placeOrders(inputs, description)
  } catch (error) {
    if (error instanceof RequestRejectedError) throw new GraphQLError(error.message, { extensions: { code: error.code } })
    throw error
  }
}

builder.mutationField('placeOrder', (t) => t.field({
  type: AsyncResponseRef,
  description: 'Accepts one order at once as a bulk of one; poll `bulk` or subscribe to `bulkStatus` for its outcome.',
  args: { input: t.arg({ type: PlaceOrderInput, required: true }) },
  resolve: async (_, { input }, { services }) => await accept(services, [input], null)
}))

builder.mutationField('placeOrders', (t) => t.field({
  type: AsyncResponseRef,
  description: 'Accepts many orders at once as one bulk: valid ones are enqueued, invalid ones REJECTED.',
  args: {
    input: t.arg({ type: [PlaceOrderInput], required: true }),
    description: t.arg.string({ validate: z.string().max(1000) })
  },
  resolve: async (_, { input, description }, { services }) => await accept(services, input, description ?? null)
}))
