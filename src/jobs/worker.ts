import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { failAbandonedOperations } from '../bulks/queries.ts'
import { run } from '../db/pool.ts'
import { operationHandler, type RunnerDeps } from './runner.ts'
import type { OperationJob, TopicDefinition } from './topology.ts'

export interface WorkerOptions {
  /** Overrides each topic's local concurrency. */
  readonly concurrency?: number | undefined
  /** Overrides each topic's batch size. */
  readonly batchSize?: number | undefined
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
      notifyPollingIntervalSeconds: topic.pollingIntervalSeconds
    }, operationHandler(topic, topic.process, deps))

    const giveUp = `the job was given up after ${topic.retryLimit + 1} attempts (expired after ${topic.expireInSeconds}s, or its worker stopped)`
    await boss.work(topic.deadLetterQueue, {
      batchSize: 100,
      includeMetadata: true,
      pollingIntervalSeconds: 5
    }, async (jobs: Array<JobWithMetadata<OperationJob>>) => {
      // Idempotent (only operations still OPEN or RETRIABLY_FAILED change), so pg-boss completing
      // the dead-letter jobs after this commits needs no shared transaction.
      await run(deps.pool, failAbandonedOperations(jobs.map(job => job.data.operationId), giveUp))
    })
  }
}
