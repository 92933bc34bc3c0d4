import type { JobWithMetadata } from 'pg-boss'
import { jobBatchSeconds } from '../platform/jobs/jobMetrics.ts'
import type { Logger } from '../platform/log.ts'
import { OPERATION_STATUS } from './domain/status.ts'
import { operationMetrics } from './metrics.ts'
import { operationIdsOf, type OperationJob } from './topics.ts'

/**
 * What a batch did to each operation it claimed, by operation id: its new status and error code,
 * or DEFERRED (it waits for an earlier operation on its order, under a new job).
 */
export type Outcomes = Map<string, { readonly status: string, readonly code?: string }>

/**
 * After a batch's transaction committed: one log line per operation (its job's id, its own, the
 * bulk's, what became of it) and the metrics, so that a rolled-back batch, retried later, is
 * counted and logged once, by the attempt that committed.
 */
export function reportSettled (topic: string, jobs: ReadonlyArray<JobWithMetadata<OperationJob>>,
  claimed: ReadonlyArray<{ readonly id: string, readonly bulk_uuid: string }>, outcomes: Outcomes, seconds: number, log: Logger): void {
  jobBatchSeconds.observe({ topic }, seconds)
  const bulkOf = new Map(claimed.map(op => [op.id, op.bulk_uuid]))
  const durationMs = Math.round(seconds * 1000)
  // One line per operation: a chunk's job carries many (src/operations/topics.ts).
  for (const [job, operationId] of jobs.flatMap(job => operationIdsOf(job.data).map(id => [job, id] as const))) {
    const outcome = outcomes.get(operationId)
    const status = outcome?.status ?? 'SKIPPED'
    if (status === OPERATION_STATUS.COMPLETE) operationMetrics.completed.inc({ topic })
    else if (outcome?.code !== undefined) {
      operationMetrics.failed.inc({ topic, code: outcome.code, retriable: String(status === OPERATION_STATUS.RETRIABLY_FAILED) })
    }
    log.info('job settled', {
      jobId: job.id,
      operationId,
      bulkUuid: bulkOf.get(operationId),
      attempt: job.retryCount + 1,
      status,
      code: outcome?.code,
      batchSize: jobs.length,
      durationMs
    })
  }
}
