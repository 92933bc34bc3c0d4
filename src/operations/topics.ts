import { adjustStock } from '../inventory/adjustStock.ts'
import { cancelOrders } from '../orders/cancellation.ts'
import { placeOrders } from '../orders/placement.ts'
import { retryOrders } from '../orders/retry.ts'
import { retryPolicyWith, type RetryOverrides } from '../platform/jobs/retryPolicy.ts'
import type { OperationProcessor } from './runner.ts'

/**
 * Every topic the gateway publishes and consumes, in one place: the analogue of Magento's
 * communication.xml (topic → payload type) and queue_consumer.xml (consumer, batch size,
 * concurrency), plus the retry and dead-letter policy pg-boss applies.
 *
 * A job carries only the id of its operation; the operation row holds the submitted data, so a
 * bulk's payload is stored once and a status query sees exactly what the worker will process.
 */

/** Payload of every operation job. */
export interface OperationJob {
  readonly operationId: string
}

export interface TopicDefinition {
  /** pg-boss queue name; also the `topic` recorded on each operation. */
  readonly queue: string
  /** Where pg-boss moves a job whose retries are used up. */
  readonly deadLetterQueue: string
  /** Retries after the first attempt, the first delay in seconds, and exponential backoff up to a maximum. */
  readonly retryLimit: number
  readonly retryDelaySeconds: number
  readonly retryBackoff: boolean
  readonly retryDelayMaxSeconds: number
  /** How long one attempt may run; after it pg-boss fails the job and retries it elsewhere. */
  readonly expireInSeconds: number
  /** Jobs one worker takes per fetch, handled in one transaction. */
  readonly batchSize: number
  /** Workers per process for this queue. */
  readonly localConcurrency: number
  /** Polling backstop while LISTEN/NOTIFY wakes workers; retries (deferred jobs) are found by it. */
  readonly pollingIntervalSeconds: number
  /** The consumer: does the work of a batch of operations inside the job transaction. */
  readonly process: OperationProcessor
}

/**
 * An operation topic with the policy they all share: 5 retries, 1 s doubling to at most 60 s, 60 s
 * per attempt, a dead letter queue named after it, polling every second behind LISTEN/NOTIFY.
 */
function operationTopic<P extends OperationProcessor> (queue: string, consumer: { batchSize: number, localConcurrency: number, process: P }) {
  return {
    queue,
    deadLetterQueue: `${queue}.dead`,
    retryLimit: 5,
    retryDelaySeconds: 1,
    retryBackoff: true,
    retryDelayMaxSeconds: 60,
    expireInSeconds: 60,
    pollingIntervalSeconds: 1,
    ...consumer
  } as const satisfies TopicDefinition
}

export const TOPICS = {
  /**
   * Places the order of one accepted PlaceOrderInput and reserves its stock (src/orders/placement.ts);
   * its result is the order's number, and the rest of the chain follows on the chain's topics.
   * Batches of 500: every batch locks its SKUs' rows, so batches sharing SKUs run one after the
   * other, and a larger batch pays that wait, its statements and its commit for more orders
   * (measured: a 20,000-order drain 1.3× faster than with 100). A single order still goes at once.
   */
  placeOrder: operationTopic('order.place', { batchSize: 500, localConcurrency: 2, process: placeOrders }),
  /** Cancels an order; after its placement and anything else accepted before it on that order. */
  cancelOrder: operationTopic('order.cancel', { batchSize: 50, localConcurrency: 1, process: cancelOrders }),
  /**
   * Resumes an order's chain (retryOrder): enqueues again the steps that gave up; after anything
   * accepted before it on that order.
   */
  retryOrder: operationTopic('order.retry', { batchSize: 50, localConcurrency: 1, process: retryOrders }),
  /** Changes one SKU's stock by a signed quantity (adjustStock); a SKU not yet known is created. */
  adjustStock: operationTopic('inventory.adjust', { batchSize: 100, localConcurrency: 1, process: adjustStock })
} as const satisfies Record<string, TopicDefinition>

/** The topics with the deployment's overrides applied (JOB_RETRY_LIMIT and friends). */
export function topicsWith (overrides: RetryOverrides): TopicDefinition[] {
  return Object.values(TOPICS).map(topic => ({ ...topic, ...retryPolicyWith(topic, overrides) }))
}

/**
 * Topics whose jobs are not operations of a bulk: the gateway's own follow-up work (webhooks,
 * retention). `TopicDefinition` above is for operation processors; these have the same policy
 * fields, and their consumers are registered by the module that owns the work (src/app.ts wires
 * them with `startServiceWorker`). Every queue they use is created at start like the others.
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
  /** Jobs handled at once per process (each is one job; no batches). */
  readonly localConcurrency: number
  /** Polling backstop; retries (deferred jobs) are found by it. */
  readonly pollingIntervalSeconds: number
}

/** Payload of a webhook delivery job: the notification row holds the URL and the body. */
export interface NotifyBulkJob {
  readonly notificationId: string
}

/** Payload of the retention job: none; it deletes what is older than the configured ages. */
export type RetentionJob = Record<string, never>

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
