import type { Query } from '../../platform/db/pool.ts'
import type { BulkRow } from './bulks.ts'

/** States of a notification, stored as text in `bulk_notification.state` (migrations/0006). */
export const NOTIFICATION_STATE = Object.freeze({
  /** Enqueued; being delivered or waiting for a retry. */
  PENDING: 'PENDING',
  /** The receiver answered 2xx. */
  DELIVERED: 'DELIVERED',
  /** Every attempt failed; pg-boss gave up. */
  FAILED: 'FAILED'
} as const)
export type NotificationState = (typeof NOTIFICATION_STATE)[keyof typeof NOTIFICATION_STATE]

/** A finished bulk that asked to be notified and has no notification for this finish yet. */
export interface FinishedBulkRow extends BulkRow {
  /** bulk.notify_url */
  target_url: string
  /** finished_at exactly as PostgreSQL has it (microseconds; a JS Date would round it, and it is a key). */
  finished_at_exact: string
}

export interface NotificationRow {
  id: string
  bulk_uuid: string
  finished_at: Date
  url: string
  payload: unknown
  state: NotificationState
  created_at: Date
  settled_at: Date | null
}

export interface AttemptRow {
  notification_id: string
  attempt: number
  attempted_at: Date
  duration_ms: number
  http_status: number | null
  error: string | null
  delivered: boolean
}

/**
 * The bulk when it has finished, asked to be notified, and has no notification for this finish.
 * Nothing for most bulks: a primary-key read that stops at `notify_url IS NOT NULL`.
 */
export function selectFinishedBulkToNotify (uuid: string): Query {
  return {
    name: 'notifications-finished-bulk',
    text: `SELECT s.*, s.created_at::text AS created_at_key, s.finished_at::text AS finished_at_exact, b.notify_url AS target_url
      FROM bulk b
      JOIN bulk_summary s ON s.uuid = b.uuid
      WHERE b.uuid = $1 AND b.notify_url IS NOT NULL AND s.finished_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM bulk_notification n WHERE n.bulk_uuid = b.uuid AND n.finished_at = s.finished_at)`,
    values: [uuid]
  }
}

/**
 * Records the notification of one finish, unless one exists (the unique key on bulk_uuid and
 * finished_at: a racing transaction waits for the first and then inserts nothing) or the bulk no
 * longer is at that finish. Returns the row only when this call inserted it.
 */
export function insertNotification (id: string, bulkUuid: string, finishedAt: string, url: string, payload: unknown): Query {
  return {
    text: `INSERT INTO bulk_notification (id, bulk_uuid, finished_at, url, payload)
      SELECT $1, $2, $3::timestamptz, $4, $5::json
      WHERE EXISTS (SELECT 1 FROM bulk_summary s WHERE s.uuid = $2 AND s.finished_at = $3::timestamptz)
      ON CONFLICT (bulk_uuid, finished_at) DO NOTHING
      RETURNING id`,
    values: [id, bulkUuid, finishedAt, url, JSON.stringify(payload)]
  }
}

/**
 * Finished bulks with a notify_url and no notification for their current finish, after `afterUuid`
 * (keyset): what the finish watcher may have missed while it was not listening.
 */
export function selectUnnotifiedFinishedBulks (afterUuid: string, limit: number): Query {
  return {
    text: `SELECT b.uuid
      FROM bulk b
      CROSS JOIN LATERAL (SELECT s.finished_at FROM bulk_summary s WHERE s.uuid = b.uuid) s
      WHERE b.notify_url IS NOT NULL AND b.uuid > $1 AND s.finished_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM bulk_notification n WHERE n.bulk_uuid = b.uuid AND n.finished_at = s.finished_at)
      ORDER BY b.uuid
      LIMIT $2`,
    values: [afterUuid, limit]
  }
}

/** A notification to deliver, with the owner of its bulk (whose secret signs it). */
export interface DeliverableNotificationRow extends NotificationRow {
  owner: string
}

export function selectNotification (id: string): Query {
  return {
    text: 'SELECT n.*, b.owner FROM bulk_notification n JOIN bulk b ON b.uuid = n.bulk_uuid WHERE n.id = $1',
    values: [id]
  }
}

/** One attempt; an attempt recorded already (the same job attempt run twice) is kept as it was. */
export function insertAttempt (attempt: Omit<AttemptRow, 'attempted_at'> & { attempted_at: Date }): Query {
  return {
    text: `INSERT INTO bulk_notification_attempt (notification_id, attempt, attempted_at, duration_ms, http_status, error, delivered)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (notification_id, attempt) DO NOTHING`,
    values: [attempt.notification_id, attempt.attempt, attempt.attempted_at, attempt.duration_ms, attempt.http_status, attempt.error, attempt.delivered]
  }
}

/** DELIVERED or FAILED, once: a guarded transition from PENDING. */
export function settleNotifications (ids: readonly string[], state: typeof NOTIFICATION_STATE.DELIVERED | typeof NOTIFICATION_STATE.FAILED): Query {
  return {
    text: `UPDATE bulk_notification SET state = $2, settled_at = clock_timestamp()
      WHERE id = ANY($1::uuid[]) AND state = '${NOTIFICATION_STATE.PENDING}'`,
    values: [ids, state]
  }
}

export function selectNotificationsOfBulk (bulkUuid: string): Query {
  return {
    text: 'SELECT * FROM bulk_notification WHERE bulk_uuid = $1 ORDER BY finished_at, created_at',
    values: [bulkUuid]
  }
}

export function selectAttempts (notificationIds: readonly string[]): Query {
  return {
    text: 'SELECT * FROM bulk_notification_attempt WHERE notification_id = ANY($1::uuid[]) ORDER BY notification_id, attempt',
    values: [notificationIds]
  }
}
