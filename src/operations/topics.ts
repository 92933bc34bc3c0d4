import type { QueuePolicy } from '../platform/jobs/boss.ts'
import type { ServiceTopicDefinition } from '../platform/jobs/serviceTopics.ts'
import type { TracedJobData } from '../platform/tracing/tracing.ts'

/**
 * The shape and shared policy of the operation topics: the analogue of Magento's
 * communication.xml (topic → payload type) and queue_consumer.xml (consumer, batch size,
 * concurrency), plus the retry and dead-letter policy pg-boss applies. Each feature names its own
 * topics (src/orders/topics.ts, src/inventory/topics.ts); src/topics.ts binds each to its processor.
 *
 * A job carries only the id of its operation; the operation row holds the submitted data, so a
 * bulk's payload is stored once and a status query sees exactly what the worker will process.
 */

/**
 * Payload of an operation job: one operation (a single order, a retry, an operation that waits for
 * an earlier one on its order), or a chunk of a bulk's operations (issue 17, item 1), each of which
 * names this job as its job_id.
 */
export type OperationJob = TracedJobData & ({ readonly operationId: string } | { readonly operationIds: readonly string[] })

/** The operations a job carries. */
export function operationIdsOf (job: OperationJob): readonly string[] {
  return 'operationIds' in job ? job.operationIds : [job.operationId]
}

/** An operation topic: its queue's policy and how its consumer takes jobs. */
export interface OperationTopic extends QueuePolicy {
  /** Jobs one worker takes per fetch, handled in one transaction. */
  readonly batchSize: number
  /** Workers per process for this queue. */
  readonly localConcurrency: number
  /** Polling backstop while LISTEN/NOTIFY wakes workers; retries (deferred jobs) are found by it. */
  readonly pollingIntervalSeconds: number
  /**
   * Long operations (exports): their start is written and committed before they run, so that status
   * reads show them begun while they run (a write more per attempt). Default: an operation is
   * written once, when its attempt ends, and shows its earlier status while it runs.
   */
  readonly recordsStart?: boolean
}

/**
 * An operation topic with the policy they all share: 5 retries, 1 s doubling to at most 60 s, 60 s
 * per attempt, a dead letter queue named after it, polling every second behind LISTEN/NOTIFY.
 */
export function operationTopic (queue: string, consumer: { batchSize: number, localConcurrency: number }): OperationTopic {
  return Object.freeze({
    queue,
    deadLetterQueue: `${queue}.dead`,
    retryLimit: 5,
    retryDelaySeconds: 1,
    retryBackoff: true,
    retryDelayMaxSeconds: 60,
    expireInSeconds: 60,
    pollingIntervalSeconds: 1,
    ...consumer
  })
}

/** Payload of a webhook delivery job: the notification row holds the URL and the body. */
export interface NotifyBulkJob {
  readonly notificationId: string
}

/** Payload of the retention job: none; it deletes what is older than the configured ages. */
export type RetentionJob = Record<string, never>

/**
 * Topics whose jobs are not operations of a bulk: the gateway's own follow-up work (webhooks,
 * retention), registered by the composition root with `startServiceWorker`.
 */
export const SERVICE_TOPICS = {
  /**
   * POSTs a finished bulk's summary to its notifyUrl (src/operations/webhooks/). Retried with backoff
   * for 2 to 3 hours (10 s doubling, at most 1 h apart, 10 retries), as webhook senders do; then FAILED.
   */
  notifyBulk: {
    queue: 'bulk.notify',
    deadLetterQueue: 'bulk.notify.dead',
    retryLimit: 10,
    retryDelaySeconds: 10,
    retryBackoff: true,
    retryDelayMaxSeconds: 3600,
    // Well above WEBHOOK_TIMEOUT_MS: an attempt ends by its own timeout, not by expiry.
    expireInSeconds: 120,
    localConcurrency: 4,
    pollingIntervalSeconds: 2
  },
  /** Deletes finished bulks and expired idempotency keys (src/operations/retention.ts); sent by pg-boss's cron. */
  retention: {
    queue: 'bulk.retention',
    deadLetterQueue: undefined,
    retryLimit: 2,
    retryDelaySeconds: 60,
    retryBackoff: false,
    retryDelayMaxSeconds: 60,
    expireInSeconds: 3600,
    localConcurrency: 1,
    pollingIntervalSeconds: 10
  }
} as const satisfies Record<string, ServiceTopicDefinition>

export type ServiceTopics = { readonly [K in keyof typeof SERVICE_TOPICS]: ServiceTopicDefinition }

/** The service topics with the deployment's overrides applied (WEBHOOK_RETRY_LIMIT, WEBHOOK_RETRY_DELAY_SECONDS, WEBHOOK_TIMEOUT_MS). */
export function serviceTopicsWith (overrides: { webhookRetryLimit?: number | undefined, webhookRetryDelaySeconds?: number | undefined, webhookTimeoutMs?: number | undefined }): ServiceTopics {
  const notifyBulk = SERVICE_TOPICS.notifyBulk
  return {
    notifyBulk: {
      ...notifyBulk,
      retryLimit: overrides.webhookRetryLimit ?? notifyBulk.retryLimit,
      retryDelaySeconds: overrides.webhookRetryDelaySeconds ?? notifyBulk.retryDelaySeconds,
      expireInSeconds: Math.max(notifyBulk.expireInSeconds, Math.ceil((overrides.webhookTimeoutMs ?? 0) / 1000) + 60)
    },
    retention: SERVICE_TOPICS.retention
  }
}
