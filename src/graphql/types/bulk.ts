import { resolveCursorConnection } from '@pothos/plugin-relay'
import { GraphQLError } from 'graphql'
import type { BulkView } from '../../bulks/read.ts'
import type { OperationRow } from '../../bulks/queries.ts'
import { BULK_STATUS, type OperationCounts } from '../../domain/bulk/status.ts'
import { builder } from '../builder.ts'
import { OperationRef, OperationStatusEnum } from './operation.ts'

export const BulkStatusEnum = builder.enumType('BulkStatus', {
  description: 'Derived from the operations, exactly: FINISHED_* only when every operation is final.',
  values: Object.values(BULK_STATUS)
})

export const OperationCountsRef = builder.objectRef<OperationCounts>('OperationCounts').implement({
  description: 'Operations of a bulk per status.',
  fields: (t) => ({
    open: t.exposeInt('open'),
    complete: t.exposeInt('complete'),
    retriablyFailed: t.exposeInt('retriablyFailed'),
    notRetriablyFailed: t.exposeInt('notRetriablyFailed'),
    rejected: t.exposeInt('rejected')
  })
})

const CURSOR_PREFIX = 'operation:'

function toCursor (operation: OperationRow): string {
  return Buffer.from(CURSOR_PREFIX + operation.request_index).toString('base64url')
}

function fromCursor (cursor: string | null | undefined): number | null {
  if (cursor == null) return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const index = Number(text.slice(CURSOR_PREFIX.length))
  if (!text.startsWith(CURSOR_PREFIX) || !Number.isInteger(index) || index < 0) {
    throw new GraphQLError(`invalid cursor "${cursor}": pass a cursor from this connection's edges or pageInfo`, { extensions: { code: 'BAD_USER_INPUT' } })
  }
  return index
}

export const BulkRef = builder.objectRef<BulkView>('Bulk').implement({
  description: 'One accepted request and its operations (Magento\'s bulk).',
  fields: (t) => ({
    uuid: t.exposeID('uuid'),
    description: t.exposeString('description', { nullable: true }),
    status: t.field({ type: BulkStatusEnum, resolve: (bulk) => bulk.status }),
    operationCount: t.exposeInt('operationCount'),
    counts: t.field({ type: OperationCountsRef, resolve: (bulk) => bulk.counts }),
    progress: t.float({
      description: 'Fraction of operations that are final (0 to 1).',
      resolve: ({ counts, operationCount }) =>
        operationCount === 0 ? 1 : (counts.complete + counts.notRetriablyFailed + counts.rejected) / operationCount
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (bulk) => bulk.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the first operation began.', resolve: (bulk) => bulk.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the last operation finished; null until the bulk has.', resolve: (bulk) => bulk.finishedAt }),
    operations: t.connection({
      type: OperationRef,
      description: 'Operations in request order, optionally of one status.',
      args: { status: t.arg({ type: OperationStatusEnum }) },
      resolve: async (bulk, args, { services }) => await resolveCursorConnection<Promise<OperationRow[]>>(
        { args, toCursor, defaultSize: 50, maxSize: 1000 },
        async ({ before, after, limit, inverted }): Promise<OperationRow[]> => await services.operations(bulk.uuid, args.status ?? null, {
          afterIndex: fromCursor(after),
          beforeIndex: fromCursor(before),
          limit,
          inverted
        })
      )
    }, { name: 'OperationConnection' }, { name: 'OperationEdge' })
  })
})
