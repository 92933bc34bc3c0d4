/**
 * The post-order chain's topics (issue 4): one pg-boss queue and consumer per step and per
 * compensation, each retried on its own with backoff. The chain is choreographed: the transaction
 * that records a step's outcome enqueues the jobs of the steps that outcome made ready
 * (src/orders/changes.ts, dueWork), so the dependencies live in one place, the order aggregate's
 * STEP_PREREQUISITES, and not in a second flow definition (docs/orders.md).
 */
import type { OutsideSystem } from '../../adapters/ports.ts'
import { COMPENSATION, ORDER_STEP, type Compensation, type OrderStep } from '../domain/order.ts'
import { retryPolicyWith, type RetryOverrides } from '../../platform/jobs/retryPolicy.ts'
import type { OperationTopic } from '../../operations/topics.ts'
import type { TracedJobData } from '../../platform/tracing/tracing.ts'

/** Work with a job of its own: every step but reserveStock (done by the placement), and the compensations. */
export type ChainWork = Exclude<OrderStep, 'reserveStock'> | Compensation

/** Payload of every chain job: the order; the queue says which step. */
export interface ChainJob extends TracedJobData {
  readonly orderId: string
}

/**
 * A chain topic's queue and policy: the fields of an operation topic (src/operations/topics.ts),
 * consumed by the chain's handler rather than an operation processor, as a chain job is a step of
 * an order, not an operation of a bulk.
 */
export interface ChainTopic extends OperationTopic {
  readonly work: ChainWork
}

function topic (work: ChainWork, kind: 'step' | 'compensate'): ChainTopic {
  return {
    work,
    queue: `order.${kind}.${work}`,
    deadLetterQueue: `order.${kind}.${work}.dead`,
    // Outside systems are down for minutes, not seconds: 10 retries, 1 s doubling to at most 5 min.
    retryLimit: 10,
    retryDelaySeconds: 1,
    retryBackoff: true,
    retryDelayMaxSeconds: 300,
    expireInSeconds: 60,
    batchSize: 50,
    localConcurrency: 2,
    pollingIntervalSeconds: 1
  }
}

export const CHAIN_WORK: Readonly<Record<ChainWork, ChainTopic>> = Object.freeze({
  capturePayment: topic(ORDER_STEP.CAPTURE_PAYMENT, 'step'),
  createInvoice: topic(ORDER_STEP.CREATE_INVOICE, 'step'),
  emailInvoice: topic(ORDER_STEP.EMAIL_INVOICE, 'step'),
  createShipment: topic(ORDER_STEP.CREATE_SHIPMENT, 'step'),
  printShippingLabel: topic(ORDER_STEP.PRINT_SHIPPING_LABEL, 'step'),
  updateTracking: topic(ORDER_STEP.UPDATE_TRACKING, 'step'),
  emailShipping: topic(ORDER_STEP.EMAIL_SHIPPING, 'step'),
  exportToErp: topic(ORDER_STEP.EXPORT_TO_ERP, 'step'),
  releaseStock: topic(COMPENSATION.RELEASE_STOCK, 'compensate'),
  refundPayment: topic(COMPENSATION.REFUND_PAYMENT, 'compensate'),
  emailCancellation: topic(COMPENSATION.EMAIL_CANCELLATION, 'compensate')
})

/** The outside system each step and compensation calls (null: none): the time its call may take bounds its attempts. */
export const CHAIN_SYSTEM: Readonly<Record<ChainWork, OutsideSystem | null>> = Object.freeze({
  capturePayment: 'payment',
  createInvoice: null,
  emailInvoice: 'email',
  createShipment: 'carrier',
  printShippingLabel: 'printer',
  updateTracking: 'carrier',
  emailShipping: 'email',
  exportToErp: 'erp',
  releaseStock: null,
  refundPayment: 'payment',
  emailCancellation: 'email'
})

/** Seconds an attempt needs besides its outside call: reading the orders before it, recording the outcomes after. */
export const ATTEMPT_MARGIN_SECONDS = 10

/**
 * The heartbeat of a step whose attempts may run longer than the default expiry (pg-boss's
 * `heartbeatSeconds`): a dead worker's job is retried about this long (plus the monitor's
 * interval) after its last touch, not after the whole, long expiry.
 */
export const LONG_STEP_HEARTBEAT_SECONDS = 30

/** The shortest expiry that fits an attempt whose outside call may take `timeoutMs`. */
export function attemptSecondsFor (timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + ATTEMPT_MARGIN_SECONDS
}

/**
 * The chain's topics with the deployment's overrides applied (JOB_RETRY_LIMIT and friends, WORKER_*).
 * `callTimeoutsMs` are the time limits of the outside calls as configured (PRINT_TIMEOUT_MS with
 * PRINT_COMMAND, ERP_TIMEOUT_MS with ERP_WEBHOOK_URL, SMTP_TIMEOUT_MS with SMTP_URL): without
 * JOB_EXPIRE_SECONDS, a step whose call may take longer than its expiry allows gets an expiry that
 * fits it (issue 13, item 6: an attempt must not outlive its expiry and run beside its retry), and
 * pg-boss's heartbeat. With JOB_EXPIRE_SECONDS, the configuration has checked that every call fits.
 */
export function chainTopicsWith (overrides: RetryOverrides & {
  batchSize?: number | undefined
  concurrency?: number | undefined
  callTimeoutsMs?: Partial<Record<OutsideSystem, number>>
}): ChainTopic[] {
  return Object.values(CHAIN_WORK).map(topic => {
    const system = CHAIN_SYSTEM[topic.work]
    const callMs = system !== null ? overrides.callTimeoutsMs?.[system] : undefined
    const expireInSeconds = overrides.expireInSeconds ?? Math.max(topic.expireInSeconds, callMs !== undefined ? attemptSecondsFor(callMs) : 0)
    return {
      ...topic,
      ...retryPolicyWith(topic, overrides),
      expireInSeconds,
      heartbeatSeconds: expireInSeconds > topic.expireInSeconds ? LONG_STEP_HEARTBEAT_SECONDS : undefined,
      batchSize: overrides.batchSize ?? topic.batchSize,
      localConcurrency: overrides.concurrency ?? topic.localConcurrency
    }
  })
}
