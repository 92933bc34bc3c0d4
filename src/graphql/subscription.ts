import { GraphQLError } from 'graphql'
import type { BulkView } from '../bulks/read.ts'
import { REQUEST_ERROR_CODE } from '../commands/errors.ts'
import { builder, viewer } from './builder.ts'
import { uuidArg } from './query.ts'
import { BulkRef } from './types/bulk.ts'

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
