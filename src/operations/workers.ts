import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { failAbandonedOperations } from './sql/bulks.ts'
import { run } from '../platform/db/pool.ts'
import { tracedBatch } from '../platform/tracing/tracing.ts'
import { operationHandler, type RunnerDeps, type TopicDefinition } from './runner.ts'
import { chunkGroupConcurrency, DEFAULT_CHUNK_SIZE, JOB_PRIORITY } from './fairness.ts'
import { operationIdsOf, type OperationJob } from './topics.ts'

export interface WorkerOptions {
  /** Overrides each topic's local concurrency. */
  readonly concurrency?: number | undefined
  /** Overrides each topic's batch size. */
  readonly batchSize?: number | undefined
  /** Jobs of one group (owner) running at once on each topic, across all processes (OWNER_MAX_OPERATIONS_IN_FLIGHT); undefined: no limit. */
  readonly groupConcurrency?: number | undefined
  /** Operations a chunk's job carries at most (BULK_CHUNK_SIZE), for the chunk workers' share of groupConcurrency. */
  readonly chunkSize?: number | undefined
}

/** Chunk jobs one chunk worker fetches at once (each is then done in its own transaction). */
const CHUNKS_PER_FETCH = 2

/** Starts this process's consumers: per topic, a batch worker for its single jobs and one for its chunks; one per dead letter queue. */
export async function startWorkers (boss: PgBoss, topics: readonly TopicDefinition[], deps: RunnerDeps, options: WorkerOptions = {}): Promise<void> {
  for (const topic of topics) {
    // One span per job, each the child of the trace its data carries (src/platform/tracing).
    const handler = tracedBatch(topic.queue, (job: JobWithMetadata<OperationJob>) => operationIdsOf(job.data), operationHandler(topic, topic.process, deps))
    // Jobs of one operation (a single order, a retry, a deferred operation), a batch at a time.
    await boss.work(topic.queue, {
      batchSize: options.batchSize ?? topic.batchSize,
      localConcurrency: options.concurrency ?? topic.localConcurrency,
      minPriority: JOB_PRIORITY.BULK_ITEM,
      includeMetadata: true,
      // A full batch means more is waiting: fetch again at once rather than after a poll interval.
      burstWhenBatchFull: true,
      pollingIntervalSeconds: topic.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: topic.pollingIntervalSeconds,
      ...(options.groupConcurrency !== undefined ? { groupConcurrency: options.groupConcurrency } : {})
    }, handler)
    // Jobs of a chunk of a bulk's operations (issue 17, item 1), each in a transaction of its own: a
    // chunk is a batch. Two a fetch, so that a full fetch (pg-boss burstWhenBatchFull, which a batch
    // of one ignores) fetches again at once instead of after the polling interval.
    const chunkConcurrency = chunkGroupConcurrency(options.groupConcurrency, options.chunkSize ?? DEFAULT_CHUNK_SIZE)
    await boss.work(topic.queue, {
      batchSize: CHUNKS_PER_FETCH,
      localConcurrency: options.concurrency ?? topic.localConcurrency,
      maxPriority: JOB_PRIORITY.CHUNK,
      includeMetadata: true,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: topic.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: topic.pollingIntervalSeconds,
      ...(chunkConcurrency !== undefined ? { groupConcurrency: chunkConcurrency } : {})
    }, async (jobs: Array<JobWithMetadata<OperationJob>>) => {
      for (const job of jobs) await handler([job])
    })

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
      await run(deps.pool, failAbandonedOperations(jobs.flatMap(job => operationIdsOf(job.data).map(operationId => ({ operationId, jobId: job.sourceId ?? job.id }))), giveUp))
    })
  }
}
