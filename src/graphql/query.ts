import { z } from 'zod'
import { builder } from './builder.ts'
import { BulkRef } from './types/bulk.ts'

export const uuidArg = z.guid({ message: 'must be a UUID such as 0b9e6a4e-4c59-4a43-9f5f-0f3b4a2d6b7e' })

builder.queryField('bulk', (t) => t.field({
  type: BulkRef,
  nullable: true,
  description: 'A bulk by its uuid; null when there is none.',
  args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
  resolve: async (_, { uuid }, { services }) => await services.bulk(String(uuid))
}))
