import type { JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import { bossDb, run, transaction } from '../../platform/db/pool.ts'
import { affectedBy } from '../../platform/jobs/boss.ts'
import type { Logger } from '../../platform/log.ts'
import { operationMetrics } from '../metrics.ts'
import type { ServiceTopicDefinition } from '../../platform/jobs/serviceTopics.ts'
import type { NotifyBulkJob } from '../topics.ts'
import { BULK_FINISHED_EVENT } from './enqueue.ts'
import {
  insertAttempt, NOTIFICATION_STATE, selectNotification, settleNotifications, type DeliverableNotificationRow
} from '../sql/notifications.ts'
import { sign, STANDARD_WEBHOOK_HEADER, standardSignature, WEBHOOK_HEADER } from '../../platform/signature.ts'
import { signingSecretsOf } from './secrets.ts'
import { postWebhook } from './send.ts'

export interface DeliveryDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly log: Logger
  /** The `bulk.notify` topic as configured (its retry limit decides the last attempt). */
  readonly topic: ServiceTopicDefinition
  /**
   * WEBHOOK_SECRET (deprecated): when set, webhooks also carry the older X-Signature-256 made with it,
   * for receivers not yet verifying the owner's Standard Webhooks signature.
   */
  readonly legacySecret: string | undefined
  /** WEBHOOK_TIMEOUT_MS: the most one attempt may take, answer included. */
  readonly timeoutMs: number
  /** WEBHOOK_ALLOW_PRIVATE: send to private, loopback and link-local addresses too. */
  readonly allowPrivate: boolean
  /** The clock, for the signed timestamp and attempt times. */
  readonly now?: () => Date
}

interface Outcome {
  readonly attemptedAt: Date
  readonly durationMs: number
  readonly httpStatus: number | null
  readonly error: string | null
  readonly delivered: boolean
}

/**
 * The consumer of `bulk.notify`: one attempt to POST a notification's body to its URL.
 *
 * The attempt is recorded, and the notification and its job are settled, in one transaction:
 * a 2xx answer makes the notification DELIVERED and completes the job; anything else fails the
 * job for pg-boss to retry with backoff, and on the last attempt makes the notification FAILED
 * (pg-boss then moves the job to the dead letter queue, whose consumer fails notifications whose
 * last attempt never got this far, e.g. because its worker died). Settling is fenced to this
 * attempt, as the operation runner does.
 *
 * Delivery is at least once: a worker that dies after the POST and before its commit leaves the
 * job to be retried, and the receiver gets the same notification again (same webhook-id).
 */
export function notificationHandler (deps: DeliveryDeps) {
  const log = deps.log.child({ queue: deps.topic.queue })
  const now = deps.now ?? (() => new Date())

  return async (job: JobWithMetadata<NotifyBulkJob>): Promise<void> => {
    const [notification] = await run<DeliverableNotificationRow>(deps.pool, selectNotification(job.data.notificationId))
    // Deleted with its bulk (retention), or settled by an attempt pg-boss had given up on: nothing to send.
    if (!notification || notification.state !== NOTIFICATION_STATE.PENDING) return

    const attempt = job.retryCount + 1
    const outcome = await post(notification, attempt, deps, now, job.signal)
    const last = !outcome.delivered && job.retryCount >= job.retryLimit
    if (outcome.delivered) {
      log.info('webhook delivered', { notificationId: notification.id, bulkUuid: notification.bulk_uuid, attempt, httpStatus: outcome.httpStatus })
    } else {
      log.warn(last ? 'webhook failed; giving up' : 'webhook failed; will retry',
        { notificationId: notification.id, bulkUuid: notification.bulk_uuid, attempt, error: outcome.error })
    }

    await transaction(deps.pool, async (tx) => {
      await run(tx, insertAttempt({
        notification_id: notification.id,
        attempt,
        attempted_at: outcome.attemptedAt,
        duration_ms: outcome.durationMs,
        http_status: outcome.httpStatus,
        error: outcome.error,
        delivered: outcome.delivered
      }))
      if (outcome.delivered) {
        await run(tx, settleNotifications([notification.id], NOTIFICATION_STATE.DELIVERED))
        if (affectedBy(await deps.boss.complete(deps.topic.queue, job, null, { db: bossDb(tx) })) !== 1) throw lostClaim(job.id)
      } else {
        if (last) await run(tx, settleNotifications([notification.id], NOTIFICATION_STATE.FAILED))
        // pg-boss schedules the retry (or dead-letters the job) in this same transaction.
        if (affectedBy(await deps.boss.fail(deps.topic.queue, job, { message: outcome.error }, { db: bossDb(tx) })) !== 1) throw lostClaim(job.id)
      }
    })
    operationMetrics.webhookDeliveries.inc({ result: outcome.delivered ? 'delivered' : last ? 'gave_up' : 'retrying' })
  }
}

/** This attempt expired and pg-boss gave the job to another: record nothing of it (the other will). */
function lostClaim (jobId: string): Error {
  return new Error(`job ${jobId} is no longer held by this attempt; rolled back`)
}

/** The consumer of `bulk.notify.dead`: notifications whose job pg-boss gave up on are FAILED. */
export function deadNotificationHandler (deps: { readonly pool: pg.Pool }) {
  return async (jobs: Array<JobWithMetadata<NotifyBulkJob>>): Promise<void> => {
    // Idempotent (only PENDING ones change), so pg-boss completing these jobs after it needs no shared transaction.
    await run(deps.pool, settleNotifications(jobs.map(job => job.data.notificationId), NOTIFICATION_STATE.FAILED))
  }
}

/** The headers of one attempt: Standard Webhooks signed with the owner's secrets, and the older scheme while WEBHOOK_SECRET is set. */
function headersOf (notification: DeliverableNotificationRow, attempt: number, timestamp: number, body: string,
  secrets: readonly string[], legacySecret: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'order-ops-gateway-webhook/1',
    [STANDARD_WEBHOOK_HEADER.ID]: notification.id,
    [STANDARD_WEBHOOK_HEADER.TIMESTAMP]: String(timestamp),
    [STANDARD_WEBHOOK_HEADER.SIGNATURE]: standardSignature(secrets, notification.id, timestamp, body),
    [WEBHOOK_HEADER.EVENT]: BULK_FINISHED_EVENT,
    [WEBHOOK_HEADER.ATTEMPT]: String(attempt),
    ...(legacySecret === undefined
      ? {}
      : {
          [WEBHOOK_HEADER.ID]: notification.id,
          [WEBHOOK_HEADER.TIMESTAMP]: String(timestamp),
          [WEBHOOK_HEADER.SIGNATURE]: sign(legacySecret, timestamp, body)
        })
  }
}

async function post (notification: DeliverableNotificationRow, attempt: number, deps: DeliveryDeps, now: () => Date, abandoned: AbortSignal): Promise<Outcome> {
  const secrets = await signingSecretsOf(deps.pool, notification.owner)
  const attemptedAt = now()
  const started = performance.now()
  const body = JSON.stringify(notification.payload)
  const timestamp = Math.floor(attemptedAt.getTime() / 1000)
  const headers = headersOf(notification, attempt, timestamp, body, secrets, deps.legacySecret)
  const sent = await postWebhook(notification.url, headers, body, { timeoutMs: deps.timeoutMs, allowPrivate: deps.allowPrivate, abandoned })
  if (!sent.sent) {
    // Refused before any connection: nothing about the destination (what listens there, how fast) shows.
    return { attemptedAt, durationMs: 0, httpStatus: null, error: sent.error, delivered: false }
  }
  return {
    attemptedAt,
    durationMs: Math.round(performance.now() - started),
    httpStatus: sent.httpStatus,
    error: sent.error,
    delivered: sent.error === null
  }
}
