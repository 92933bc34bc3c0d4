import { run, type Db } from '../platform/db/pool.ts'
import { collectedGauge, counter } from '../platform/metrics.ts'
import { countUnfinishedBulks } from './sql/metrics.ts'

/**
 * The bulk machinery's metrics. Counted after the transaction that writes them commits, so that
 * a rolled-back attempt counts nothing and its retry counts once.
 */
export const operationMetrics = Object.freeze({
  /** Operations accepted (a job enqueued for each), by topic. */
  accepted: counter('operations_accepted_total', 'Operations accepted and enqueued, by topic (the pg-boss queue)', ['topic']),
  /** Items refused at acceptance (REJECTED), by topic. */
  rejected: counter('operations_rejected_total', 'Items of accepted bulks refused at acceptance (REJECTED: invalid input), by topic', ['topic']),
  /** Operations that ended COMPLETE, by topic. */
  completed: counter('operations_completed_total', 'Operations that ended COMPLETE, by topic', ['topic']),
  /**
   * Operation failures, by topic, error code and whether the operation may still be retried
   * (`retriable="true"`: RETRIABLY_FAILED, its job retried with backoff; "false": NOT_RETRIABLY_FAILED).
   */
  failed: counter('operations_failed_total', 'Operation failures, by topic, error code (the operation\'s errorCode) and retriable (true: RETRIABLY_FAILED, to be retried)',
    ['topic', 'code', 'retriable']),
  /** Webhook deliveries by result. */
  webhookDeliveries: counter('webhook_deliveries_total', 'Webhook deliveries (bulk.notify) by result: delivered, retrying (failed, will be tried again), gave_up (failed for the last time)', ['result'])
})

const bulksInProgress = collectedGauge('bulks_in_progress', 'Bulks with an operation still OPEN or RETRIABLY_FAILED (in the whole database)', [])

/** Reports the unfinished bulks at every scrape (one query); returns how to stop. */
export function watchBulks (db: Db): () => void {
  return bulksInProgress.add(async (set) => {
    const [row] = await run<{ n: number }>(db, countUnfinishedBulks())
    set({}, row?.n ?? 0)
  })
}
