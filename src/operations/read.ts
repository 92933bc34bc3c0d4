import type { Viewer } from '../access/principal.ts'
import type { Db } from '../platform/db/pool.ts'
import { run } from '../platform/db/pool.ts'
import type { BulkStatus, OperationCounts } from './domain/status.ts'
import type { BulkKind } from './domain/kind.ts'
import {
  selectBulk, selectBulksPage, selectOperation, selectOperationsPage,
  type BulkFilter, type BulkKey, type BulkRow, type OperationFilter, type OperationRow
} from './sql/bulks.ts'

/** A bulk as the read side serves it. */
export interface BulkView {
  readonly uuid: string
  readonly description: string | null
  readonly operationCount: number
  readonly status: BulkStatus
  readonly counts: OperationCounts
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
  readonly acknowledgedAt: Date | null
  readonly owner: string
  readonly kind: BulkKind
  /** The credential that sent it (`token:<id>`, `jwt:<subject>`); null for bulks from before it was recorded. */
  readonly createdBy: string | null
  /** Its operations not begun by then end EXPIRED; null: no deadline. */
  readonly notAfter: Date | null
  /** Its position in the list of bulks (for cursors). */
  readonly key: BulkKey
}

export function toBulkView (row: BulkRow): BulkView {
  return {
    uuid: row.uuid,
    description: row.description,
    operationCount: row.operation_count,
    status: row.status as BulkStatus,
    counts: {
      open: row.open,
      complete: row.complete,
      retriablyFailed: row.retriably_failed,
      notRetriablyFailed: row.not_retriably_failed,
      rejected: row.rejected,
      canceled: row.canceled,
      expired: row.expired
    },
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    acknowledgedAt: row.acknowledged_at,
    owner: row.owner,
    kind: row.kind as BulkKind,
    createdBy: row.created_by,
    notAfter: row.not_after,
    key: { createdAt: row.created_at_key, uuid: row.uuid }
  }
}

/** A bulk the viewer may see, or null: another owner's is answered exactly as a missing one. */
export async function findBulk (db: Db, viewer: Viewer, uuid: string): Promise<BulkView | null> {
  const [row] = await run<BulkRow>(db, selectBulk(uuid, viewer.owner))
  return row ? toBulkView(row) : null
}

export interface Page<K> {
  readonly after: K | null
  readonly before: K | null
  readonly limit: number
  /** Read backwards from `before` (a `last: n` request). */
  readonly inverted: boolean
}

export async function listBulks (db: Db, viewer: Viewer, filter: BulkFilter, page: Page<BulkKey>): Promise<BulkView[]> {
  const rows = await run<BulkRow>(db, selectBulksPage(viewer.owner, filter, page.after, page.before, page.limit, page.inverted))
  return rows.map(toBulkView)
}

export async function listOperations (db: Db, bulkUuid: string, filter: OperationFilter, page: Page<number>): Promise<OperationRow[]> {
  return await run<OperationRow>(db, selectOperationsPage(bulkUuid, filter, page.after, page.before, page.limit, page.inverted))
}

export async function findOperation (db: Db, viewer: Viewer, id: string): Promise<OperationRow | null> {
  const [row] = await run<OperationRow>(db, selectOperation(id, viewer.owner))
  return row ?? null
}

/** Two views of one bulk say the same to a subscriber. */
export function sameBulkView (a: BulkView, b: BulkView): boolean {
  return a.status === b.status && a.finishedAt?.getTime() === b.finishedAt?.getTime() &&
    a.startedAt?.getTime() === b.startedAt?.getTime() &&
    a.counts.open === b.counts.open && a.counts.complete === b.counts.complete &&
    a.counts.retriablyFailed === b.counts.retriablyFailed && a.counts.notRetriablyFailed === b.counts.notRetriablyFailed &&
    a.counts.rejected === b.counts.rejected && a.counts.canceled === b.counts.canceled && a.counts.expired === b.counts.expired
}
