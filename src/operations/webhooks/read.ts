import { run, type Db } from '../../platform/db/pool.ts'
import { selectAttempts, selectNotificationsOfBulk, type AttemptRow, type NotificationRow } from '../sql/notifications.ts'

/** One notification of a bulk's finish, with every attempt to deliver it, as GraphQL serves it. */
export interface NotificationView {
  readonly id: string
  readonly url: string
  readonly state: NotificationRow['state']
  readonly finishedAt: Date
  readonly createdAt: Date
  readonly settledAt: Date | null
  readonly attempts: readonly AttemptView[]
}

export interface AttemptView {
  readonly attempt: number
  readonly url: string
  readonly attemptedAt: Date
  readonly durationMs: number
  readonly httpStatus: number | null
  readonly error: string | null
  readonly delivered: boolean
}

/** A bulk's notifications, oldest finish first: two queries whatever their number. */
export async function listNotifications (db: Db, bulkUuid: string): Promise<NotificationView[]> {
  const notifications = await run<NotificationRow>(db, selectNotificationsOfBulk(bulkUuid))
  if (notifications.length === 0) return []
  const attempts = await run<AttemptRow>(db, selectAttempts(notifications.map(n => n.id)))
  return notifications.map(n => ({
    id: n.id,
    url: n.url,
    state: n.state,
    finishedAt: n.finished_at,
    createdAt: n.created_at,
    settledAt: n.settled_at,
    attempts: attempts.filter(a => a.notification_id === n.id).map(a => ({
      attempt: a.attempt,
      url: n.url,
      attemptedAt: a.attempted_at,
      durationMs: a.duration_ms,
      httpStatus: a.http_status,
      error: a.error,
      delivered: a.delivered
    }))
  }))
}
