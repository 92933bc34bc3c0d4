import type { JobWithMetadata, PgBoss } from 'pg-boss'
import { DEAD_LETTER_POLICY, ensureQueue } from './boss.ts'

/**
 * A topic whose jobs are the gateway's own follow-up work (webhooks, retention), not operations of
 * a bulk: one job per handler call, no batches.
 */
export interface ServiceTopicDefinition {
  readonly queue: string
  /** Where pg-boss moves a job whose retries are used up; undefined: failed jobs just stay failed. */
  readonly deadLetterQueue: string | undefined
  readonly retryLimit: number
  readonly retryDelaySeconds: number
  readonly retryBackoff: boolean
  readonly retryDelayMaxSeconds: number
  readonly expireInSeconds: number
  /** Jobs handled at once per process. */
  readonly localConcurrency: number
  /** Polling backstop; retries (deferred jobs) are found by it. */
  readonly pollingIntervalSeconds: number
}

type QueueOptions = NonNullable<Parameters<PgBoss['createQueue']>[1]>

/** pg-boss's default for completed jobs (deleteAfterSeconds): a week. */
const PGBOSS_DEFAULT_DELETE_AFTER_DAYS = 7

/**
 * pg-boss's own retention, matched to ours (RETENTION_DAYS, src/operations/retention.ts):
 * - a job still waiting (created or retry) is kept as long as its bulk may be: pg-boss would
 *   otherwise delete it after 14 days and leave its operation OPEN for good;
 * - a finished job is kept no longer than its bulk: a week (pg-boss's default), or less when
 *   bulks are kept less. It carries only an id; the operation row keeps the outcome.
 */
export function jobRetention (retentionDays: number): Pick<QueueOptions, 'retentionSeconds' | 'deleteAfterSeconds'> {
  return {
    retentionSeconds: retentionDays * 86_400,
    deleteAfterSeconds: Math.min(retentionDays, PGBOSS_DEFAULT_DELETE_AFTER_DAYS) * 86_400
  }
}

/**
 * Creates each service topic's queue (and dead letter queue) when missing, and applies the job
 * retention to them and to `otherQueues` (the operation topics' queues, which ensureQueues in
 * src/platform/jobs/boss.ts creates). As there, only with `updatePolicy` (the worker role, which runs these
 * jobs and the retention) is an existing queue's policy brought up to date. Safe from every process.
 */
export async function ensureServiceQueues (boss: PgBoss, topics: readonly ServiceTopicDefinition[], otherQueues: readonly string[],
  retentionDays: number, updatePolicy: boolean): Promise<void> {
  const retention = jobRetention(retentionDays)
  for (const topic of topics) {
    if (topic.deadLetterQueue !== undefined) await ensureQueue(boss, topic.deadLetterQueue, { ...DEAD_LETTER_POLICY, ...retention }, updatePolicy)
    await ensureQueue(boss, topic.queue, {
      notify: true,
      ...(topic.deadLetterQueue !== undefined ? { deadLetter: topic.deadLetterQueue } : {}),
      retryLimit: topic.retryLimit,
      retryDelay: topic.retryDelaySeconds,
      retryBackoff: topic.retryBackoff,
      ...(topic.retryBackoff ? { retryDelayMax: topic.retryDelayMaxSeconds } : {}),
      expireInSeconds: topic.expireInSeconds,
      ...retention
    }, updatePolicy)
  }
  if (updatePolicy) for (const name of otherQueues) await boss.updateQueue(name, retention)
}

/**
 * Starts the consumer of a service topic (src/operations/topics.ts, SERVICE_TOPICS): one job per handler call, at most the
 * topic's local concurrency at once, and the consumer of its dead letter queue when it has one.
 */
export async function startServiceWorker<T extends object> (boss: PgBoss, topic: ServiceTopicDefinition,
  handle: (job: JobWithMetadata<T>) => Promise<void>, deadLetter?: (jobs: Array<JobWithMetadata<T>>) => Promise<void>): Promise<void> {
  await boss.work(topic.queue, {
    batchSize: 1,
    localConcurrency: topic.localConcurrency,
    includeMetadata: true,
    // NOTIFY wakes the worker for new jobs, not for retries coming due: those are found by polling.
    pollingIntervalSeconds: topic.pollingIntervalSeconds,
    notifyPollingIntervalSeconds: topic.pollingIntervalSeconds
  }, async (jobs: Array<JobWithMetadata<T>>) => {
    for (const job of jobs) await handle(job)
  })
  if (topic.deadLetterQueue !== undefined && deadLetter) {
    // Dead-lettered jobs are inserted without a NOTIFY: without notifyPollingIntervalSeconds, pg-boss would poll for them every 30 s.
    await boss.work(topic.deadLetterQueue, { batchSize: 100, includeMetadata: true, pollingIntervalSeconds: 5, notifyPollingIntervalSeconds: 5 }, deadLetter)
  }
}
