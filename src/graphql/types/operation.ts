import type { OperationRow } from '../../bulks/queries.ts'
import { OPERATION_STATUS, type OperationStatus } from '../../domain/bulk/status.ts'
import { builder } from '../builder.ts'

export const OperationStatusEnum = builder.enumType('OperationStatus', {
  values: Object.values(OPERATION_STATUS)
})

export const OperationRef = builder.objectRef<OperationRow>('Operation').implement({
  description: 'One item of a bulk and what became of it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    index: t.exposeInt('request_index', { description: "The item's index in the request." }),
    topic: t.exposeString('topic'),
    status: t.field({ type: OperationStatusEnum, resolve: (op) => op.status as OperationStatus }),
    resultMessage: t.exposeString('result_message', { nullable: true }),
    errorCode: t.exposeString('error_code', { nullable: true }),
    result: t.field({ type: 'JSON', nullable: true, resolve: (op) => op.result }),
    dataHash: t.exposeString('data_hash'),
    attempts: t.exposeInt('attempts'),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (op) => op.started_at }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (op) => op.finished_at })
  })
})
