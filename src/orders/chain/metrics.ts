import type { JobWithMetadata } from 'pg-boss'
import { jobBatchSeconds } from '../../platform/jobs/jobMetrics.ts'
import type { Logger } from '../../platform/log.ts'
import { counter } from '../../platform/metrics.ts'
import type { ChainJob, ChainTopic } from './topics.ts'

/** Failed attempts of the post-order chain's steps, counted once their transaction committed. */
const stepFailures = counter('order_step_failures_total',
  'Failed attempts of a post-order chain step, by step and final (true: the step gave up: not transient, or its retries used up)', ['step', 'final'])

/** What a chain job's attempt came to: done, skipped (nothing due), retrying or gave_up (the step failed). */
export interface SettledStep {
  readonly job: JobWithMetadata<ChainJob>
  readonly orderNumber: string | undefined
  readonly status: 'done' | 'skipped' | 'retrying' | 'gave_up'
}

/** After a chain batch committed: one log line per job, the step failures and the batch's duration. */
export function reportSteps (topic: ChainTopic, settled: readonly SettledStep[], seconds: number, log: Logger): void {
  jobBatchSeconds.observe({ topic: topic.queue }, seconds)
  const durationMs = Math.round(seconds * 1000)
  for (const { job, orderNumber, status } of settled) {
    if (status === 'retrying' || status === 'gave_up') stepFailures.inc({ step: topic.work, final: String(status === 'gave_up') })
    log.info('job settled', { jobId: job.id, orderId: job.data.orderId, orderNumber, step: topic.work, attempt: job.retryCount + 1, status, batchSize: settled.length, durationMs })
  }
}
