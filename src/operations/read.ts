import type { Role, Viewer } from '../access/principal.ts'
import type pg from 'pg'
import type { Db } from '../platform/db/pool.ts'
import { run, transaction } from '../platform/db/pool.ts'
import type { BulkStatus, OperationCounts } from './domain/status.ts'
import type { BulkKind } from './domain/kind.ts'
import {
  readOnlySnapshot, selectBulk, selectBulksPage, selectBulkWithOwnerRole, selectOperation, selectOperationsPage,
  type BulkFilter, type BulkKey, type BulkRow, type OperationFilter, type OperationRow
} from './sql/bulks.ts'
import { countOperationSearch, selectOperationSearchPage, type OperationSearch, type SearchedOperationRow } from './sql/operationSearch.ts'

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
  /** An export's rows written so far, when read by uuid (null: not an export, or not begun). */
  readonly exportRowsWritten?: number | null
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
    key: { createdAt: row.created_at_key, uuid: row.uuid },
    ...(row.export_rows_written !== undefined ? { exportRowsWritten: row.export_rows_written === null ? null : Number(row.export_rows_written) } : {})
  }
}

/** A bulk the viewer may see, or null: another owner's is answered exactly as a missing one. */
export async function findBulk (db: Db, viewer: Viewer, uuid: string): Promise<BulkView | null> {
  const [row] = await run<BulkRow>(db, selectBulk(uuid, viewer.owner))
  return row ? toBulkView(row) : null
}

/** A bulk with the role of the caller that started it (null for bulks from before that was kept). */
export interface BulkWithOwnerRole extends BulkView {
  readonly ownerRole: Role | null
}

/** A bulk the viewer may see, with its starter's role (Magento's user_type), or null as findBulk. */
export async function findBulkWithOwnerRole (db: Db, viewer: Viewer, uuid: string): Promise<BulkWithOwnerRole | null> {
  const [row] = await run<BulkRow & { owner_role: Role | null }>(db, selectBulkWithOwnerRole(uuid, viewer.owner))
  return row ? { ...toBulkView(row), ownerRole: row.owner_role } : null
}

/**
 * A bulk the viewer may see (as findBulkWithOwnerRole) and its first `limit` operations in request
 * order, read from one snapshot: the counts and the operations agree. Null for another owner's.
 */
export async function findBulkWithOperations (pool: pg.Pool, viewer: Viewer, uuid: string, limit: number): Promise<{ bulk: BulkWithOwnerRole, operations: OperationRow[] } | null> {
  return await transaction(pool, async (client) => {
    await run(client, readOnlySnapshot())
    const [row] = await run<BulkRow & { owner_role: Role | null }>(client, selectBulkWithOwnerRole(uuid, viewer.owner))
    if (!row) return null
    const operations = await run<OperationRow>(client, selectOperationsPage(uuid, { status: null, errorCode: null }, null, null, limit, false))
    return { bulk: { ...toBulkView(row), ownerRole: row.owner_role }, operations }
  })
}

/** The operations of the viewer's bulks that match a search: one page of them, and how many match in all. */
export async function searchOperations (db: Db, viewer: Viewer, search: Omit<OperationSearch, 'owner'>): Promise<{ total: number, operations: SearchedOperationRow[] }> {
  const query = { ...search, owner: viewer.owner }
  const [[count], operations] = await Promise.all([
    run<{ total: number }>(db, countOperationSearch(query)),
    run<SearchedOperationRow>(db, selectOperationSearchPage(query))
  ])
  return { total: count?.total ?? 0, operations }
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
    a.counts.rejected === b.counts.rejected && a.counts.canceled === b.counts.canceled && a.counts.expired === b.counts.expired &&
    a.exportRowsWritten === b.exportRowsWritten
}
