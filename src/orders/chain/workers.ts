import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { chainDeadLetterHandler, chainHandler, type ChainDeps } from './handler.ts'
import type { ChainJob, ChainTopic } from './topics.ts'
import { tracedBatch } from '../../platform/tracing/tracing.ts'

/** Starts this process's consumers of the chain: one batch worker per step and compensation, and one per dead letter queue. */
export async function startChainWorkers (boss: PgBoss, topics: readonly ChainTopic[], deps: ChainDeps): Promise<void> {
  for (const topic of topics) {
    await boss.work(topic.queue, {
      batchSize: topic.batchSize,
      localConcurrency: topic.localConcurrency,
      includeMetadata: true,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: topic.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: topic.pollingIntervalSeconds
    }, tracedBatch(topic.queue, job => [job.id], chainHandler(topic, deps)))
    // Dead-lettered jobs are inserted without a NOTIFY: without notifyPollingIntervalSeconds, pg-boss would poll for them every 30 s.
    await boss.work(topic.deadLetterQueue, { batchSize: 100, includeMetadata: true, pollingIntervalSeconds: 5, notifyPollingIntervalSeconds: 5 },
      async (jobs: Array<JobWithMetadata<ChainJob>>) => { await chainDeadLetterHandler(topic, deps)(jobs) })
  }
}
