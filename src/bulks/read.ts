import type { Db } from '../db/pool.ts'
import { run } from '../db/pool.ts'
import { deriveBulkStatus, type BulkStatus, type OperationCounts } from '../domain/bulk/status.ts'
import { selectBulk, selectOperationsPage, type BulkRow, type OperationRow } from './queries.ts'

/** A bulk as the read side serves it: the stored row plus what is derived from its counts. */
export interface BulkView {
  readonly uuid: string
  readonly description: string | null
  readonly operationCount: number
  readonly status: BulkStatus
  readonly counts: OperationCounts
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
}

export function toBulkView (row: BulkRow): BulkView {
  const counts: OperationCounts = {
    open: row.open,
    complete: row.complete,
    retriablyFailed: row.retriably_failed,
    notRetriablyFailed: row.not_retriably_failed,
    rejected: row.rejected
  }
  const status = deriveBulkStatus(counts, row.started)
  return {
    uuid: row.uuid,
    description: row.description,
    operationCount: row.operation_count,
    status,
    counts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at
  }
}

export async function findBulk (db: Db, uuid: string): Promise<BulkView | null> {
  const [row] = await run<BulkRow>(db, selectBulk(uuid))
  return row ? toBulkView(row) : null
}

export interface OperationPage {
  readonly afterIndex: number | null
  readonly beforeIndex: number | null
  readonly limit: number
  readonly inverted: boolean
}

export async function listOperations (db: Db, bulkUuid: string, status: string | null, page: OperationPage): Promise<OperationRow[]> {
  return await run<OperationRow>(db, selectOperationsPage(bulkUuid, status, page.afterIndex, page.beforeIndex, page.limit, page.inverted))
}

/** Two views of one bulk say the same to a subscriber. */
export function sameBulkView (a: BulkView, b: BulkView): boolean {
  return a.status === b.status && a.finishedAt?.getTime() === b.finishedAt?.getTime() &&
    a.startedAt?.getTime() === b.startedAt?.getTime() &&
    a.counts.open === b.counts.open && a.counts.complete === b.counts.complete &&
    a.counts.retriablyFailed === b.counts.retriablyFailed && a.counts.notRetriablyFailed === b.counts.notRetriablyFailed &&
    a.counts.rejected === b.counts.rejected
}
