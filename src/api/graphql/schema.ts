import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql'
import { builder } from './builder.ts'
import './types/scalars.ts'
import './types/placeOrderInput.ts'
import './types/asyncResponse.ts'
import './types/operation.ts'
import './types/bulk.ts'
import './types/apiToken.ts'
import './types/notification.ts'
import './types/webhookSecret.ts'
import './types/orderStep.ts'
import './types/orderEvent.ts'
import './types/order.ts'
import './types/inventoryItem.ts'
import './types/stockAdjustmentInput.ts'
import './query.ts'
import './mutation.ts'
import './exports.ts'
import './subscription.ts'

export const schema: GraphQLSchema = builder.toSchema()

/** The SDL committed as schema/schema.graphql (sorted, so that it diffs cleanly). */
export function printSdl (): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n'
}
