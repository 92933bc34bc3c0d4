import { z } from 'zod'
import { REQUEST_ITEM_STATUS, type AsyncResponse, type RequestItem } from '../../../operations/accept.ts'
import { builder } from '../builder.ts'

export const RequestItemStatusEnum = builder.enumType('RequestItemStatus', {
  values: Object.values(REQUEST_ITEM_STATUS)
})

export const RequestItemRef = builder.objectRef<RequestItem>('RequestItem').implement({
  description: 'What became of one item of the request.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: "The item's index in the request." }),
    orderNumber: t.exposeString('orderNumber', {
      nullable: true,
      description: 'The order the item is about: the number an accepted placement was given (its order is created with it), or the order a cancellation names.'
    }),
    dataHash: t.exposeString('dataHash', { description: 'SHA-256 (hex) of the item as submitted, serialized as JSON with keys sorted at every level.' }),
    status: t.field({ type: RequestItemStatusEnum, resolve: (item) => item.status }),
    errorMessage: t.exposeString('errorMessage', { nullable: true, description: 'Why the item was rejected.' })
  })
})

export const AsyncResponseRef = builder.objectRef<AsyncResponse>('AsyncResponse').implement({
  description: 'The answer to an accepting mutation, given at once: the work itself happens later.',
  fields: (t) => ({
    bulkUuid: t.exposeID('bulkUuid'),
    requestItems: t.field({
      type: [RequestItemRef],
      description: 'One per item, in request order; all of them unless a range is asked for. A JSONL upload\'s are read from its bulk\'s operations as they are asked for: page a large one with `offset` and `first`.',
      args: {
        offset: t.arg.int({ description: 'The id of the first item returned (ids are the items\' indexes in the request); 0 by default.', validate: z.number().int().min(0) }),
        first: t.arg.int({ description: 'How many items at most; all that follow `offset` by default.', validate: z.number().int().min(0) })
      },
      resolve: async (response, { offset, first }, { services }) => await services.requestItems(response, { offset: offset ?? 0, limit: first ?? null })
    }),
    errors: t.exposeBoolean('errors', { description: 'True when any item was rejected.' })
  })
})
