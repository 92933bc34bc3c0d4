import { placeOrders } from './handlers/placeOrder.ts'
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

export const TOPICS = {
  /** Creates the order of one accepted PlaceOrderInput and records its number as the result. */
  placeOrder: {
    queue: 'order.place',
    deadLetterQueue: 'order.place.dead',
    retryLimit: 5,
    retryDelaySeconds: 1,
    retryBackoff: true,
    retryDelayMaxSeconds: 60,
    expireInSeconds: 60,
    batchSize: 100,
    localConcurrency: 2,
    pollingIntervalSeconds: 1,
    process: placeOrders
  }
} as const satisfies Record<string, TopicDefinition>

export type TopicName = keyof typeof TOPICS

/** Queue names for the schema and for operation rows: a topic is known by its queue name. */
export const TOPIC_BY_QUEUE: ReadonlyMap<string, TopicName> = new Map(
  Object.entries(TOPICS).map(([name, topic]) => [topic.queue, name as TopicName])
)

/** The topics with the deployment's overrides applied (JOB_RETRY_LIMIT and friends). */
export function topicsWith (overrides: { retryLimit?: number | undefined, retryDelaySeconds?: number | undefined, expireInSeconds?: number | undefined }): TopicDefinition[] {
  return Object.values(TOPICS).map(topic => ({
    ...topic,
    retryLimit: overrides.retryLimit ?? topic.retryLimit,
    retryDelaySeconds: overrides.retryDelaySeconds ?? topic.retryDelaySeconds,
    expireInSeconds: overrides.expireInSeconds ?? topic.expireInSeconds
  }))
}
