import { resolveCursorConnection } from '@pothos/plugin-relay'
import { z } from 'zod'
import type { BulkView } from '../bulks/read.ts'
import type { BulkKey } from '../bulks/queries.ts'
import { builder, viewer } from './builder.ts'
import { decodeCursor, encodeCursor } from './cursors.ts'
import { BulkRef, BulkStatusEnum } from './types/bulk.ts'
import { OperationRef } from './types/operation.ts'

export const uuidArg = z.guid({ message: 'must be a UUID such as 0b9e6a4e-4c59-4a43-9f5f-0f3b4a2d6b7e' })

const isBulkKey = (value: unknown): value is BulkKey =>
  typeof value === 'object' && value !== null && typeof (value as BulkKey).createdAt === 'string' &&
  typeof (value as BulkKey).uuid === 'string' && uuidArg.safeParse((value as BulkKey).uuid).success &&
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test((value as BulkKey).createdAt)

builder.queryField('bulk', (t) => t.field({
  type: BulkRef,
  nullable: true,
  description: 'A bulk by its uuid; null when there is none.',
  args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
  resolve: async (_, { uuid }, context) => await context.services.bulk(viewer(context), String(uuid))
}))

builder.queryField('bulks', (t) => t.connection({
  type: BulkRef,
  description: "The caller's bulks (an admin's: everyone's), newest first, optionally filtered; `acknowledged: false` lists what still needs attention.",
  args: {
    status: t.arg({ type: BulkStatusEnum }),
    createdAfter: t.arg({ type: 'DateTime' }),
    createdBefore: t.arg({ type: 'DateTime' }),
    acknowledged: t.arg.boolean()
  },
  resolve: async (_, args, context) => await resolveCursorConnection<Promise<BulkView[]>>(
    { args, toCursor: (bulk) => encodeCursor('bulk', bulk.key), defaultSize: 20, maxSize: 100 },
    async ({ before, after, limit, inverted }): Promise<BulkView[]> => await context.services.bulks(
      viewer(context),
      {
        status: args.status ?? null,
        createdAfter: args.createdAfter ?? null,
        createdBefore: args.createdBefore ?? null,
        acknowledged: args.acknowledged ?? null
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
