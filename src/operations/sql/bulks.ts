import type { Query } from '../../platform/db/pool.ts'

// Times are clock_timestamp(), not now(): a worker's job transaction begins before it claims its
// operations, and now() (the transaction's start) would put an operation's end before its start.
import { OPERATION_ERROR_CODE as E, OPERATION_STATUS as S } from '../domain/status.ts'

/** An operation row as the bulk queries return it. */
export interface OperationRow {
  id: string
  /** Its place among every operation ever accepted (a global, increasing integer: Magento's operation id). */
  seq: number
  job_id: string | null
  bulk_uuid: string
  request_index: number
  topic: string
  status: string
  data: unknown
  data_hash: string
  result: unknown
  error_code: string | null
  result_message: string | null
  attempts: number
  created_at: Date
  started_at: Date | null
  finished_at: Date | null
}

/** A row of the bulk_summary view: a bulk with its counts (summed over the progress shards) and derived status. */
export interface BulkRow {
  uuid: string
  description: string | null
  operation_count: number
  created_at: Date
  acknowledged_at: Date | null
  notify_url: string | null
  open: number
  complete: number
  retriably_failed: number
  not_retriably_failed: number
  rejected: number
  canceled: number
  expired: number
  started: number
  started_at: Date | null
  /** Set once every operation is final. */
  finished_at: Date | null
  status: string
  owner: string
  kind: string
  created_by: string | null
  not_after: Date | null
  /** created_at as PostgreSQL prints it, for cursors. */
  created_at_key: string
  /** An export's rows written so far (selectBulk only). */
  export_rows_written?: number | string | null
}

export interface NewOperation {
  id: string
  index: number
  topic: string
  status: string
  data: unknown
  dataHash: string
  errorCode: string | null
  message: string | null
  /** The order the operation is about (operations of one key run in acceptance order), if known. */
  orderingKey: string | null
  /** Give an accepted placement its order number now (the next of order_number_seq), as its ordering key. */
  numberOrder: boolean
  /** The job that carries it when it is accepted: a chunk's job (absent: a job of its own, whose id is the operation's). */
  jobId?: string | undefined
}

export interface NewBulk {
  readonly uuid: string
  readonly owner: string
  /** The role of the caller that started it (Magento's user_type). */
  readonly ownerRole: string
  readonly description: string | null
  readonly operationCount: number
  readonly notifyUrl: string | null
  readonly kind: string
  /** The credential that sent it (`token:<id>`, `jwt:<subject>`), if known. */
  readonly createdBy: string | null
  /** Operations not begun by then end EXPIRED (null: no deadline). */
  readonly notAfter: Date | null
}

/** The columns an accepted operation is written with, from rows travelling as one JSON array ($2). */
const OPERATION_COLUMNS = `id, job_id, bulk_uuid, request_index, topic, status, data, data_hash, error_code, result_message,
                           finished_at, ordering_key`
/**
 * The rows of an accepted chunk, of the bulk `bulk` names (an SQL expression). A JSON null in
 * `data` (a rejected line that was not read) arrives as SQL NULL: stored as JSON null.
 */
function operationRowsOf (bulk: string): string {
  return `SELECT r.id, CASE WHEN r.status = '${S.OPEN}' THEN coalesce(r.job_id, r.id) END, ${bulk}, r.index, r.topic, r.status, coalesce(r.data, 'null'), r.data_hash,
             r.error_code, r.message, CASE WHEN r.status = '${S.REJECTED}' THEN now() END,
             CASE WHEN r.number_order AND r.status = '${S.OPEN}' THEN order_number(nextval('order_number_seq')) ELSE r.ordering_key END
      FROM jsonb_to_recordset($2::jsonb) AS r (id uuid, index integer, topic text, status text, data jsonb,
                                               data_hash text, error_code text, message text, ordering_key text, number_order boolean, job_id uuid)
      ORDER BY r.index`
}

/** An operation as a row of the JSON array the insert statements bind (jsonb_to_recordset's column names). */
export function operationRow (op: NewOperation): Record<string, unknown> {
  return {
    id: op.id,
    index: op.index,
    topic: op.topic,
    status: op.status,
    data: op.data,
    data_hash: op.dataHash,
    error_code: op.errorCode,
    message: op.message,
    ordering_key: op.orderingKey,
    number_order: op.numberOrder,
    job_id: op.jobId
  }
}

/**
 * Operations as the insert statements bind them: a JSON array of their rows (operationRow), as text.
 * Made from objects (operationRows) or from rows already serialized (operationRowsOfText), such as a
 * file spool's lines: those go to the statement as they are, never parsed (issue 17, item 5).
 */
export type OperationRows = string & { readonly __operationRows: true }

export function operationRows (operations: readonly NewOperation[]): OperationRows {
  return JSON.stringify(operations.map(operationRow)) as OperationRows
}

/** Rows each serialized already (JSON.stringify(operationRow(op))), joined into the array the statements bind. */
export function operationRowsOfText (rows: readonly string[]): OperationRows {
  return `[${rows.join(',')}]` as OperationRows
}

/**
 * A serialized row (JSON.stringify(operationRow(op))) carried by the job `jobId`: the key goes in
 * front, so that the row's text is copied, not parsed. A row carries no job_id of its own (an
 * unset jobId is left out by JSON), so the key is never there twice.
 */
export function rowTextWithJob (row: string, jobId: string): string {
  return `{"job_id":${JSON.stringify(jobId)},${row.slice(1)}`
}

/**
 * One statement for a whole chunk of operations: rows travel as one JSON array. Returns each
 * operation's ordering key (for placements, the order number given here, ORD-00000042).
 *
 * No foreign key checks that the bulk exists (migrations/0030: it cost a look-up per row): its
 * uuid is read from the bulk row, once, so that without one the insert fails on bulk_uuid's NOT NULL.
 */
export function insertOperations (bulkUuid: string, rows: OperationRows): Query {
  return {
    text: `INSERT INTO operation (${OPERATION_COLUMNS}) ${operationRowsOf('(SELECT b.uuid FROM bulk b WHERE b.uuid = $1)')} RETURNING id, ordering_key`,
    values: [bulkUuid, rows]
  }
}

/**
 * The bulk with its first chunk of operations, in one statement: a bulk that fits one chunk costs
 * one statement instead of two, and its operations cannot go in without it. Returns as
 * insertOperations does.
 */
export function insertBulkWithOperations (bulk: NewBulk, rows: OperationRows): Query {
  return {
    text: `WITH new_bulk AS (
        INSERT INTO bulk (uuid, owner, description, operation_count, notify_url, owner_role, kind, created_by, not_after)
          VALUES ($1, $3, $4, $5, $6, $7, $8, $9, $10)
      )
      INSERT INTO operation (${OPERATION_COLUMNS}) ${operationRowsOf('$1')} RETURNING id, ordering_key`,
    values: [bulk.uuid, rows, bulk.owner, bulk.description, bulk.operationCount, bulk.notifyUrl, bulk.ownerRole, bulk.kind, bulk.createdBy, bulk.notAfter]
  }
}

/**
 * A bulk and its counts: a primary-key read plus at most 16 progress rows, whatever the bulk's size.
 * `owner` null reads any owner's (admin); otherwise another owner's bulk is not found, by the same plan.
 */
export function selectBulk (uuid: string, owner: string | null): Query {
  return {
    name: 'select-bulk',
    // export_rows_written: an export's progress, so that bulkStatus pushes it (migrations/0026).
    text: `SELECT *, created_at::text AS created_at_key,
        (SELECT e.rows_written FROM bulk_export e WHERE e.bulk_uuid = s.uuid) AS export_rows_written
      FROM bulk_summary s WHERE uuid = $1 AND ($2::text IS NULL OR owner = $2)`,
    values: [uuid, owner]
  }
}

/** A bulk as selectBulk reads it, with the role of the caller that started it (null before migration 0017). */
export function selectBulkWithOwnerRole (uuid: string, owner: string | null): Query {
  return {
    text: `SELECT s.*, s.created_at::text AS created_at_key, b.owner_role
      FROM bulk_summary s JOIN bulk b ON b.uuid = s.uuid
      WHERE s.uuid = $1 AND ($2::text IS NULL OR s.owner = $2)`,
    values: [uuid, owner]
  }
}

/** First in a transaction: its reads see one snapshot, and it writes nothing (reads that must agree). */
export function readOnlySnapshot (): Query {
  return { text: 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', values: [] }
}

export interface OperationFilter {
  readonly status: string | null
  readonly errorCode: string | null
}

/**
 * One page of a bulk's operations in request order (keyset pagination on request_index):
 * after `afterIndex` and before `beforeIndex` when given; `inverted` reads from the end
 * (a `last: n` page), newest index first.
 */
export function selectOperationsPage (bulkUuid: string, filter: OperationFilter, afterIndex: number | null, beforeIndex: number | null,
  limit: number, inverted: boolean): Query {
  return {
    text: `SELECT * FROM operation
      WHERE bulk_uuid = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR error_code = $3)
        AND ($4::int IS NULL OR request_index > $4) AND ($5::int IS NULL OR request_index < $5)
      ORDER BY request_index ${inverted ? 'DESC' : 'ASC'}
      LIMIT $6`,
    values: [bulkUuid, filter.status, filter.errorCode, afterIndex, beforeIndex, limit]
  }
}

/** An operation by id, only when its bulk is `owner`'s (null: any owner's). */
export function selectOperation (id: string, owner: string | null): Query {
  return {
    text: `SELECT o.* FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
      WHERE o.id = $1 AND ($2::text IS NULL OR b.owner = $2)`,
    values: [id, owner]
  }
}

export interface BulkFilter {
  readonly status: string | null
  readonly createdAfter: Date | null
  readonly createdBefore: Date | null
  readonly acknowledged: boolean | null
  /** Only this owner's bulks (for admins, who see everyone's). */
  readonly owner: string | null
  readonly kind: string | null
}

/**
 * A position in the list of bulks, newest first: (created_at, uuid) of the last bulk seen.
 * created_at travels as PostgreSQL's own text (microseconds), which a JS Date would round.
 */
export interface BulkKey { readonly createdAt: string, readonly uuid: string }

/**
 * One page of bulks, newest first, keyset-paginated on (created_at, uuid); `inverted` reads
 * oldest first from `before` (a `last: n` page).
 */
export function selectBulksPage (owner: string | null, filter: BulkFilter, after: BulkKey | null, before: BulkKey | null, limit: number, inverted: boolean): Query {
  return {
    text: `SELECT *, created_at::text AS created_at_key FROM bulk_summary
      WHERE ($10::text IS NULL OR owner = $10) AND ($11::text IS NULL OR owner = $11) AND ($12::text IS NULL OR kind = $12)
        AND ($1::text IS NULL OR status = $1)
        AND ($2::timestamptz IS NULL OR created_at > $2) AND ($3::timestamptz IS NULL OR created_at < $3)
        AND ($4::boolean IS NULL OR (acknowledged_at IS NOT NULL) = $4)
        AND ($5::timestamptz IS NULL OR (created_at, uuid) < ($5, $6::uuid))
        AND ($7::timestamptz IS NULL OR (created_at, uuid) > ($7, $8::uuid))
      ORDER BY created_at ${inverted ? 'ASC' : 'DESC'}, uuid ${inverted ? 'ASC' : 'DESC'}
      LIMIT $9`,
    values: [filter.status, filter.createdAfter, filter.createdBefore, filter.acknowledged,
      after?.createdAt ?? null, after?.uuid ?? null, before?.createdAt ?? null, before?.uuid ?? null, limit, owner, filter.owner, filter.kind]
  }
}

/**
 * Puts failed operations back to OPEN with a fresh job id, optionally only those with the given
 * error codes or ids; returns them with the job they had (to cancel) and the one to enqueue.
 */
export function reopenFailedOperations (bulkUuid: string, errorCodes: readonly string[] | null, ids: readonly string[] | null): Query {
  return {
    text: `WITH failed AS (
        SELECT id, job_id FROM operation
        WHERE bulk_uuid = $1 AND status IN ('${S.RETRIABLY_FAILED}', '${S.NOT_RETRIABLY_FAILED}')
          AND ($2::text[] IS NULL OR error_code = ANY($2)) AND ($3::uuid[] IS NULL OR id = ANY($3))
        ORDER BY request_index
        FOR UPDATE
      )
      UPDATE operation o
      SET status = '${S.OPEN}', job_id = gen_random_uuid(), error_code = NULL, result_message = NULL,
          finished_at = NULL, updated_at = clock_timestamp()
      FROM failed
      WHERE o.id = failed.id
      RETURNING o.id, o.topic, o.job_id, failed.job_id AS previous_job_id`,
    values: [bulkUuid, errorCodes, ids]
  }
}

/**
 * Cancels the operations of a bulk that have not been carried out: OPEN ones, and RETRIABLY_FAILED
 * ones waiting for their next attempt. A worker holds the operations it runs locked in its job
 * transaction (claimOperations), and so does one that defers an operation behind an earlier one on
 * the same order: this statement waits for such a lock, then finds the operation finished (left as
 * it is) or still pending (canceled, a deferred one with its new job). A worker about to claim one
 * waits for this lock and then finds it CANCELED. Either way an operation is canceled or run, never
 * both, and what cancelBulk answers is final. Rows are locked in request order, as workers lock
 * them (claimOperations), so that the two cannot deadlock. Returns the jobs to cancel in pg-boss.
 */
export function cancelPendingOperations (bulkUuid: string): Query {
  return {
    text: `WITH pending AS (
        SELECT id FROM operation
        WHERE bulk_uuid = $1 AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
        ORDER BY request_index
        FOR NO KEY UPDATE
      )
      UPDATE operation o
      SET status = '${S.CANCELED}', error_code = 'CANCELED', result_message = 'canceled before it began',
          finished_at = clock_timestamp(), updated_at = clock_timestamp()
      FROM pending
      WHERE o.id = pending.id
      RETURNING o.id, o.topic, o.job_id`,
    values: [bulkUuid]
  }
}

/**
 * Of these jobs of a bulk, those that still carry an unfinished operation: a chunk's job with an
 * operation running, which cancelBulk leaves alone (cancelling it would roll its work back).
 */
export function selectJobsInUse (bulkUuid: string, jobIds: readonly string[]): Query {
  return {
    text: `SELECT DISTINCT job_id FROM operation
      WHERE bulk_uuid = $1 AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}') AND job_id = ANY($2::uuid[])`,
    values: [bulkUuid, jobIds]
  }
}

/**
 * Gives an operation of a chunk that failed transiently a job of its own (its retry), only while
 * `jobId` (the chunk's) is still its job. Returns its new job id.
 */
export function detachOperation (id: string, jobId: string): Query {
  return {
    text: `UPDATE operation SET job_id = gen_random_uuid(), updated_at = clock_timestamp()
      WHERE id = $1 AND job_id = $2 RETURNING job_id`,
    values: [id, jobId]
  }
}

/** Acknowledges a bulk, in one guarded statement: only the owner's (null: any), only once finished. */
export function acknowledgeBulk (uuid: string, owner: string | null): Query {
  return {
    text: `UPDATE bulk b SET acknowledged_at = coalesce(b.acknowledged_at, now())
      FROM bulk_summary s
      WHERE b.uuid = $1 AND s.uuid = b.uuid AND ($2::text IS NULL OR b.owner = $2) AND s.finished_at IS NOT NULL
      RETURNING b.uuid`,
    values: [uuid, owner]
  }
}

/**
 * Locks a bulk for a command that changes its operations (retry, cancel), when `owner` may act on
 * it, so that two such commands on one bulk take turns, and retention's DELETE waits for them.
 * Returns no row for another owner's bulk. FOR NO KEY UPDATE, not FOR UPDATE: the command then waits
 * for the operations a worker holds, and that worker's transaction writes rows that reference the
 * bulk (its progress shard, a finish notification), whose foreign keys take a key-share lock on the
 * bulk row. FOR UPDATE would make the two wait for each other (a deadlock PostgreSQL broke by
 * rolling the worker's batch back, so the cancel canceled what was being run).
 */
export function lockBulk (uuid: string, owner: string | null): Query {
  return { text: 'SELECT uuid FROM bulk WHERE uuid = $1 AND ($2::text IS NULL OR owner = $2) FOR NO KEY UPDATE', values: [uuid, owner] }
}

/**
 * A bulk retried: it goes back to needing attention (`bulks(acknowledged: false)` lists it again),
 * and `reopened_at` tells retention, on the very row it deletes, that the bulk is live again.
 */
export function markBulkReopened (uuid: string): Query {
  return { text: 'UPDATE bulk SET acknowledged_at = NULL, reopened_at = clock_timestamp() WHERE uuid = $1', values: [uuid] }
}

/**
 * Ends EXPIRED the claimed operations whose bulk's deadline has passed and that have not begun: OPEN
 * ones and RETRIABLY_FAILED ones waiting for their retry (as cancelPendingOperations takes them),
 * that no worker holds (an attempt still running them, whose job expired, is left to finish). They
 * are not run; their jobs are then done (the runner's idle jobs). Returns their ids.
 */
export function expireOperations (claims: ReadonlyArray<{ operationId: string, jobId: string }>): Query {
  return {
    // Only operations of bulks past their deadline are locked: a row lock is a write too.
    text: `WITH pending AS (
        SELECT o.id, b.not_after FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
        WHERE (o.id, o.job_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) AND o.status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
          AND b.not_after <= clock_timestamp()
        FOR NO KEY UPDATE OF o SKIP LOCKED
      )
      UPDATE operation o
      SET status = '${S.EXPIRED}', error_code = '${E.DEADLINE_PASSED}',
          result_message = 'not begun by its deadline, notAfter ' || to_char(pending.not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          finished_at = clock_timestamp(), updated_at = clock_timestamp()
      FROM pending
      WHERE o.id = pending.id
      RETURNING o.id`,
    values: [claims.map(claim => claim.operationId), claims.map(claim => claim.jobId)]
  }
}

/** Per-order ordering, on an operation `o`: no operation on the same order accepted earlier is unfinished. */
const NO_EARLIER_UNFINISHED = `(o.ordering_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM operation p
          WHERE p.ordering_key = o.ordering_key AND p.seq < o.seq AND p.status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')))`

/**
 * The advisory lock class of "operations of this bulk are being run or canceled" (the two-key
 * form, whose keys never meet pg-boss's or the migrator's one-key locks); the bulk is the second key.
 */
const BULK_RUN_LOCK = 1_716_001

/**
 * Takes, for the job transaction, a shared lock on each bulk these operations belong to, before
 * they are claimed: workers share it with each other, and cancelBulk takes it exclusively
 * (lockBulkRuns). So a cancel waits for the batches already running the bulk's operations, and no
 * new batch claims one of them until the cancel has committed: a cancel cannot be overtaken by a
 * worker that claims the next operations while it waits for the running ones.
 */
export function lockBulkRunsShared (operationIds: readonly string[]): Query {
  return {
    text: `SELECT count(*)::int AS locked FROM (
        SELECT pg_advisory_xact_lock_shared(${BULK_RUN_LOCK}, hashtext(b.bulk_uuid::text))
        FROM (SELECT DISTINCT bulk_uuid FROM operation WHERE id = ANY($1::uuid[])) b
        ORDER BY b.bulk_uuid) locks`,
    values: [operationIds]
  }
}

/** The exclusive side of lockBulkRunsShared, for cancelBulk: waits for the batches running the bulk's operations. */
export function lockBulkRuns (uuid: string): Query {
  return { text: `SELECT pg_advisory_xact_lock(${BULK_RUN_LOCK}, hashtext($1::text))`, values: [uuid] }
}

/**
 * The operations still to be done by these jobs, each locked until the job transaction ends:
 * cancelBulk and expiry skip what a worker holds, and a worker claiming one that a cancel holds
 * waits, then finds it CANCELED. Nothing is written: an attempt's start is written with its end
 * (completeOperations, failOperation), one write per attempt. Left out: operations already final
 * (their job was delivered again after it had committed, and doing it again would do it twice),
 * operations whose current job is another one (a stale job after retryBulk re-enqueued the
 * operation), and operations waiting for an earlier one on their order. Locked in the order the job
 * transaction writes them (bulk, then index), so that two transactions cannot deadlock on them.
 */
export function claimOperations (claims: ReadonlyArray<{ operationId: string, jobId: string }>): Query {
  return {
    text: `SELECT id, bulk_uuid, request_index, data, ordering_key, clock_timestamp() AS claimed_at
      FROM operation o
      WHERE (id, job_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
        AND ${NO_EARLIER_UNFINISHED}
      ORDER BY bulk_uuid, request_index
      FOR NO KEY UPDATE OF o`,
    values: [claims.map(claim => claim.operationId), claims.map(claim => claim.jobId)]
  }
}

/**
 * Records the start of long operations (exports) before they run, committed at once, so that
 * status reads show them begun while they run (their topic's `recordsStart`): first start time, one
 * more attempt, OPEN again if it was waiting for a retry. Same conditions as claimOperations, which
 * then claims them; their end does not count the attempt again.
 */
export function startOperations (claims: ReadonlyArray<{ operationId: string, jobId: string }>): Query {
  return {
    text: `UPDATE operation o
      SET status = '${S.OPEN}', attempts = attempts + 1, started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp()
      WHERE (id, job_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
        AND ${NO_EARLIER_UNFINISHED}`,
    values: [claims.map(claim => claim.operationId), claims.map(claim => claim.jobId)]
  }
}

/**
 * Gives operations that must wait for an earlier one on the same order a new job id, to be enqueued
 * for later in the worker's transaction (the job that found them waiting then completes). Only while
 * `jobId` is still their job and they are unfinished.
 */
export function deferOperations (waits: ReadonlyArray<{ operationId: string, jobId: string }>): Query {
  return {
    text: `UPDATE operation SET job_id = gen_random_uuid(), updated_at = clock_timestamp()
      WHERE (id, job_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
      RETURNING id, job_id`,
    values: [waits.map(wait => wait.operationId), waits.map(wait => wait.jobId)]
  }
}

/**
 * What an attempt's end records of its start (claimOperations wrote nothing): the first start time,
 * when the worker claimed the operation, and one more attempt, unless its start was recorded apart
 * (startOperations, which counted the attempt).
 */
export interface AttemptStart {
  readonly claimedAt: Date
  readonly counted: boolean
}

/**
 * Completes operations with their results and records their attempt: one write per operation. A
 * guarded transition, so finished ones stay as they are.
 */
export function completeOperations (results: ReadonlyArray<{ id: string, result: unknown, claimedAt: Date }>, counted: boolean): Query {
  return {
    text: `UPDATE operation o
      SET status = '${S.COMPLETE}', result = r.result, error_code = NULL, result_message = NULL,
          attempts = o.attempts + $2, started_at = coalesce(o.started_at, r.claimed_at),
          finished_at = clock_timestamp(), updated_at = clock_timestamp()
      FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, result jsonb, claimed_at timestamptz)
      WHERE o.id = r.id AND o.status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')`,
    values: [JSON.stringify(results.map(r => ({ id: r.id, result: r.result, claimed_at: r.claimedAt }))), counted ? 0 : 1]
  }
}

/** Records a failure and its attempt: RETRIABLY_FAILED (a retry follows) or NOT_RETRIABLY_FAILED (final). */
export function failOperation (id: string, status: typeof S.RETRIABLY_FAILED | typeof S.NOT_RETRIABLY_FAILED, errorCode: string, message: string,
  start: AttemptStart): Query {
  return {
    text: `UPDATE operation
      SET status = $2, error_code = $3, result_message = $4, updated_at = clock_timestamp(),
          attempts = attempts + $6, started_at = coalesce(started_at, $5),
          finished_at = CASE WHEN $2 = '${S.NOT_RETRIABLY_FAILED}' THEN clock_timestamp() END
      WHERE id = $1 AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')`,
    values: [id, status, errorCode, message, start.claimedAt, start.counted ? 0 : 1]
  }
}

/**
 * Operations whose jobs pg-boss dead-lettered without our handler deciding (the job expired or
 * its worker died until no retries were left) become NOT_RETRIABLY_FAILED, so none stays OPEN.
 * Only while the dead job is still the operation's current one.
 */
export function failAbandonedOperations (claims: ReadonlyArray<{ operationId: string, jobId: string }>, message: string): Query {
  return {
    text: `UPDATE operation
      SET error_code = CASE WHEN status = '${S.RETRIABLY_FAILED}' THEN 'RETRIES_EXHAUSTED' ELSE 'EXPIRED' END,
          result_message = coalesce(result_message || ' / ', '') || $3,
          status = '${S.NOT_RETRIABLY_FAILED}', finished_at = clock_timestamp(), updated_at = clock_timestamp()
      WHERE (id, job_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')`,
    values: [claims.map(claim => claim.operationId), claims.map(claim => claim.jobId), message]
  }
}

/** The owners of bulks (whose orders their placements create). */
export function selectBulkOwners (uuids: readonly string[]): Query {
  return { text: 'SELECT uuid, owner FROM bulk WHERE uuid = ANY($1::uuid[])', values: [uuids] }
}
