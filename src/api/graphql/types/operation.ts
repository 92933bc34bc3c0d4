import type { OperationRow } from '../../../operations/sql/bulks.ts'
import { OPERATION_STATUS, type OperationStatus } from '../../../operations/domain/status.ts'
import { builder } from '../builder.ts'
import { READ_COST } from '../complexity.ts'

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
    resultMessage: t.exposeString('result_message', { nullable: true, description: 'Why it failed, was rejected or canceled; while retried, the last error.' }),
    errorCode: t.exposeString('error_code', { nullable: true }),
    data: t.field({ type: 'JSON', description: 'The item as submitted.', resolve: (op) => op.data }),
    result: t.field({ type: 'JSON', nullable: true, description: 'What the work produced, once COMPLETE.', resolve: (op) => op.result }),
    dataHash: t.exposeString('data_hash'),
    attempts: t.exposeInt('attempts', {
      description: 'Attempts that ended (completed or failed) so far; one cut short (its worker stopped, its job expired) leaves no trace. An export counts each attempt as it begins.'
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (op) => op.created_at }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the first attempt began, written when that attempt ends (an export writes it as it begins): null while the first attempt runs.', resolve: (op) => op.started_at }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (op) => op.finished_at }),
    nextRetryAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due, while the operation waits for a retry.',
      complexity: READ_COST,
      resolve: async (op, _, { services }) => op.status === OPERATION_STATUS.RETRIABLY_FAILED ? await services.nextRetryAt(op) : null
    })
  })
})
