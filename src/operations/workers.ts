import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { failAbandonedOperations } from './sql/bulks.ts'
import { run } from '../platform/db/pool.ts'
import { tracedBatch } from '../platform/tracing/tracing.ts'
import { operationHandler, type RunnerDeps, type TopicDefinition } from './runner.ts'
import type { OperationJob } from './topics.ts'

export interface WorkerOptions {
  /** Overrides each topic's local concurrency. */
  readonly concurrency?: number | undefined
  /** Overrides each topic's batch size. */
  readonly batchSize?: number | undefined
  /** Jobs of one group (owner) running at once on each topic, across all processes (OWNER_MAX_OPERATIONS_IN_FLIGHT); undefined: no limit. */
  readonly groupConcurrency?: number | undefined
}

/** Starts this process's consumers: one batch worker per topic and one per dead letter queue. */
export async function startWorkers (boss: PgBoss, topics: readonly TopicDefinition[], deps: RunnerDeps, options: WorkerOptions = {}): Promise<void> {
  for (const topic of topics) {
    await boss.work(topic.queue, {
      batchSize: options.batchSize ?? topic.batchSize,
      localConcurrency: options.concurrency ?? topic.localConcurrency,
      includeMetadata: true,
      // A full batch means more is waiting: fetch again at once rather than after a poll interval.
      burstWhenBatchFull: true,
      pollingIntervalSeconds: topic.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: topic.pollingIntervalSeconds,
      ...(options.groupConcurrency !== undefined ? { groupConcurrency: options.groupConcurrency } : {})
    }, tracedBatch(topic.queue, job => job.data.operationId, operationHandler(topic, topic.process, deps)))

    const giveUp = `given up after ${topic.retryLimit + 1} attempts that did not finish (each may run ${topic.expireInSeconds}s; its worker may have stopped or lost its connection)`
    await boss.work(topic.deadLetterQueue, {
      batchSize: 100,
      includeMetadata: true,
      // Dead-lettered jobs are inserted without a NOTIFY: without notifyPollingIntervalSeconds, pg-boss would poll for them every 30 s.
      pollingIntervalSeconds: 5,
      notifyPollingIntervalSeconds: 5
    }, async (jobs: Array<JobWithMetadata<OperationJob>>) => {
      // Idempotent (only operations still OPEN or RETRIABLY_FAILED change), so pg-boss completing
      // the dead-letter jobs after this commits needs no shared transaction.
      // sourceId: the job that was dead-lettered, which must still be the operation's current one.
      await run(deps.pool, failAbandonedOperations(jobs.map(job => ({ operationId: job.data.operationId, jobId: job.sourceId ?? job.id })), giveUp))
    })
  }
}
