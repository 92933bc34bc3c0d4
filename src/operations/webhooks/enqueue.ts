import { randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { toBulkView, type BulkView } from '../read.ts'
import { bossDb, run, transaction, type Db } from '../../platform/db/pool.ts'
import type { BulkStatus, OperationCounts } from '../domain/status.ts'
import { SERVICE_TOPICS, type NotifyBulkJob } from '../topics.ts'
import { resultsUrl } from '../results.ts'
import { insertNotification, selectFinishedBulkToNotify, selectUnnotifiedFinishedBulks, type FinishedBulkRow } from '../sql/notifications.ts'

/** The event a webhook announces (X-Webhook-Event; Shopify's bulk_operations/finish). */
export const BULK_FINISHED_EVENT = 'bulk.finished'

/** The JSON body POSTed to a bulk's notifyUrl (docs/bulks.md). */
export interface BulkFinishedPayload {
  readonly event: typeof BULK_FINISHED_EVENT
  /** Also X-Webhook-Id: the same for every attempt of this notification. */
  readonly notificationId: string
  readonly uuid: string
  readonly description: string | null
  readonly status: BulkStatus
  readonly operationCount: number
  readonly counts: OperationCounts
  readonly createdAt: string
  readonly startedAt: string | null
  readonly finishedAt: string
  readonly resultsUrl: string
}

export function toPayload (notificationId: string, bulk: BulkView, resultsFileUrl: string): BulkFinishedPayload {
  return {
    event: BULK_FINISHED_EVENT,
    notificationId,
    uuid: bulk.uuid,
    description: bulk.description,
    status: bulk.status,
    operationCount: bulk.operationCount,
    counts: bulk.counts,
    createdAt: bulk.createdAt.toISOString(),
    startedAt: bulk.startedAt?.toISOString() ?? null,
    finishedAt: bulk.finishedAt!.toISOString(),
    resultsUrl: resultsFileUrl
  }
}

export interface EnqueueDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  /** The gateway's public address, for the payload's resultsUrl. */
  readonly publicUrl: string
}

/**
 * Enqueues the webhook of a bulk's finish, once per finish: when the bulk has finished, asked to
 * be notified and has no notification for this finish, the notification row and its pg-boss job
 * are written in one transaction. Processes racing on the same finish all get here; the unique key
 * (bulk_uuid, finished_at) lets the first insert win and the others insert, and enqueue, nothing.
 * Returns the notification's id when this call enqueued it.
 */
export async function notifyIfFinished (deps: EnqueueDeps, bulkUuid: string): Promise<string | null> {
  const [row] = await run<FinishedBulkRow>(deps.pool, selectFinishedBulkToNotify(bulkUuid))
  if (!row) return null
  const id = randomUUID()
  // The body is fixed now, so that every attempt sends the same summary of this finish.
  const payload = toPayload(id, toBulkView(row), resultsUrl(deps.publicUrl, bulkUuid))
  return await transaction(deps.pool, async (tx) => {
    const [inserted] = await run(tx, insertNotification(id, bulkUuid, row.finished_at_exact, row.target_url, payload))
    if (!inserted) return null
    const job: NotifyBulkJob = { notificationId: id }
    await deps.boss.send(SERVICE_TOPICS.notifyBulk.queue, job, { db: bossDb(tx) })
    return id
  })
}

/** A page of finished bulks whose finish has no notification yet (for the finish watcher's sweep). */
export async function listUnnotifiedFinishedBulks (db: Db, afterUuid: string, limit: number): Promise<string[]> {
  return (await run<{ uuid: string }>(db, selectUnnotifiedFinishedBulks(afterUuid, limit))).map(row => row.uuid)
}
