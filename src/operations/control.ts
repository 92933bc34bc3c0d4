import type { PgBoss } from 'pg-boss'
import type { Viewer } from '../access/principal.ts'
import type pg from 'pg'
import {
  acknowledgeBulk as acknowledgeBulkQuery, cancelPendingOperations, lockBulk, lockBulkRuns, markBulkReopened, reopenFailedOperations, selectJobsInUse
} from './sql/bulks.ts'
import { findBulk, type BulkView } from './read.ts'
import { bossDb, run, transaction } from '../platform/db/pool.ts'
import { currentTrace } from '../platform/tracing/tracing.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from './errors.ts'

export interface ControlDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
}

function notFound (uuid: string): RequestRejectedError {
  return new RequestRejectedError(REQUEST_ERROR_CODE.NOT_FOUND, `no bulk ${uuid}`)
}

/** The bulk after a command; gone only if retention deleted it meanwhile. */
async function found (deps: ControlDeps, viewer: Viewer, uuid: string): Promise<BulkView> {
  const bulk = await findBulk(deps.pool, viewer, uuid)
  if (!bulk) throw notFound(uuid)
  return bulk
}

/** Groups rows by topic, for pg-boss calls that take one queue at a time. */
function byTopic<T extends { topic: string }> (rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const row of rows) {
    const group = groups.get(row.topic)
    if (group) group.push(row)
    else groups.set(row.topic, [row])
  }
  return groups
}

/**
 * Enqueues the failed operations of a bulk again (RETRIABLY_FAILED and NOT_RETRIABLY_FAILED; never
 * REJECTED, COMPLETE or CANCELED), optionally only those with the given error codes or ids. Each
 * gets a fresh job, enqueued in the transaction that reopens it; a retry still scheduled by
 * pg-boss is cancelled in the same transaction, so that exactly one job carries each operation.
 * The bulk goes back to IN_PROGRESS and finishes again. What each kind of operation does when
 * run again is its processor's (docs/bulks.md, "What a retry does"): it decides again on the state
 * as it is now.
 */
export async function retryBulk (deps: ControlDeps, viewer: Viewer, uuid: string, errorCodes: readonly string[] | null, operationIds: readonly string[] | null): Promise<BulkView> {
  await transaction(deps.pool, async (client) => {
    if ((await run(client, lockBulk(uuid, viewer.owner))).length === 0) throw notFound(uuid)
    const reopened = await run<{ id: string, topic: string, job_id: string, previous_job_id: string | null }>(
      client, reopenFailedOperations(uuid, errorCodes, operationIds))
    // A chunk's job that still carries other unfinished operations is not cancelled: they need it.
    const previousIds = [...new Set(reopened.flatMap(row => row.previous_job_id ? [row.previous_job_id] : []))]
    const inUse = new Set(previousIds.length === 0 ? [] : (await run<{ job_id: string }>(client, selectJobsInUse(uuid, previousIds))).map(row => row.job_id))
    for (const [topic, rows] of byTopic(reopened)) {
      const previous = [...new Set(rows.flatMap(row => row.previous_job_id && !inUse.has(row.previous_job_id) ? [row.previous_job_id] : []))]
      if (previous.length > 0) await deps.boss.cancel(topic, previous, { db: bossDb(client) })
      await deps.boss.insert(topic, rows.map(row => ({ id: row.job_id, data: { operationId: row.id, ...currentTrace() } })), { db: bossDb(client) })
    }
    // In the transaction that holds the bulk's lock: retention, waiting on it, then sees the bulk reopened.
    if (reopened.length > 0) await run(client, markBulkReopened(uuid))
  })
  return await found(deps, viewer, uuid)
}

/**
 * Cancels a bulk: operations not yet begun become CANCELED and their jobs are cancelled in
 * pg-boss, in one transaction; running ones finish. Calling it again changes nothing.
 */
export async function cancelBulk (deps: ControlDeps, viewer: Viewer, uuid: string): Promise<BulkView> {
  await transaction(deps.pool, async (client) => {
    if ((await run(client, lockBulk(uuid, viewer.owner))).length === 0) throw notFound(uuid)
    // Waits for the batches running the bulk's operations, and keeps new ones from claiming any until this commits.
    await run(client, lockBulkRuns(uuid))
    const canceled = await run<{ id: string, topic: string, job_id: string | null }>(client, cancelPendingOperations(uuid))
    // A chunk's job that still carries an operation being run is left to finish it; it does not run the canceled ones.
    const jobIds = [...new Set(canceled.flatMap(row => row.job_id ? [row.job_id] : []))]
    const inUse = new Set(jobIds.length === 0 ? [] : (await run<{ job_id: string }>(client, selectJobsInUse(uuid, jobIds))).map(row => row.job_id))
    for (const [topic, rows] of byTopic(canceled)) {
      const jobs = [...new Set(rows.flatMap(row => row.job_id && !inUse.has(row.job_id) ? [row.job_id] : []))]
      if (jobs.length > 0) await deps.boss.cancel(topic, jobs, { db: bossDb(client) })
    }
  })
  return await found(deps, viewer, uuid)
}

/** Dismisses a finished bulk (Magento's acknowledged bulks); `bulks(acknowledged: false)` leaves it out. */
export async function acknowledgeBulk (deps: ControlDeps, viewer: Viewer, uuid: string): Promise<BulkView> {
  if ((await run(deps.pool, acknowledgeBulkQuery(uuid, viewer.owner))).length === 0) {
    const bulk = await findBulk(deps.pool, viewer, uuid)
    if (!bulk) throw notFound(uuid)
    throw new RequestRejectedError(REQUEST_ERROR_CODE.BULK_NOT_FINISHED, `bulk ${uuid} is ${bulk.status}; only a finished bulk can be acknowledged`)
  }
  return await found(deps, viewer, uuid)
}
