import type { Query } from '../db/pool.ts'

// Times are clock_timestamp(), not now(): a worker's job transaction begins before it claims its
// operations, and now() (the transaction's start) would put an operation's end before its start.
import { OPERATION_STATUS as S } from '../domain/bulk/status.ts'

/** An operation row as the bulk queries return it. */
export interface OperationRow {
  id: string
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

/** A row of the bulk_summary view: a bulk with its counts summed over the progress shards. */
export interface BulkRow {
  uuid: string
  description: string | null
  operation_count: number
  created_at: Date
  open: number
  complete: number
  retriably_failed: number
  not_retriably_failed: number
  rejected: number
  started: number
  started_at: Date | null
  /** Set once every operation is final. */
  finished_at: Date | null
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
}

export function insertBulk (uuid: string, description: string | null, operationCount: number): Query {
  return {
    text: 'INSERT INTO bulk (uuid, description, operation_count) VALUES ($1, $2, $3)',
    values: [uuid, description, operationCount]
  }
}

/** One statement for a whole chunk of operations: rows travel as one JSON array. */
export function insertOperations (bulkUuid: string, operations: readonly NewOperation[]): Query {
  return {
    text: `INSERT INTO operation (id, bulk_uuid, request_index, topic, status, data, data_hash, error_code, result_message, finished_at)
      SELECT r.id, $1, r.index, r.topic, r.status, r.data, r.data_hash, r.error_code, r.message,
             CASE WHEN r.status = '${S.REJECTED}' THEN now() END
      FROM jsonb_to_recordset($2::jsonb) AS r (id uuid, index integer, topic text, status text, data jsonb,
                                               data_hash text, error_code text, message text)`,
    values: [bulkUuid, JSON.stringify(operations.map(op => ({
      id: op.id,
      index: op.index,
      topic: op.topic,
      status: op.status,
      data: op.data,
      data_hash: op.dataHash,
      error_code: op.errorCode,
      message: op.message
    })))]
  }
}

/** A bulk and its counts: a primary-key read plus at most 16 progress rows, whatever the bulk's size. */
export function selectBulk (uuid: string): Query {
  return {
    name: 'select-bulk',
    text: 'SELECT * FROM bulk_summary WHERE uuid = $1',
    values: [uuid]
  }
}

/**
 * One page of a bulk's operations in request order (keyset pagination on request_index):
 * after `afterIndex` and before `beforeIndex` when given; `inverted` reads from the end
 * (a `last: n` page), newest index first.
 */
export function selectOperationsPage (bulkUuid: string, status: string | null, afterIndex: number | null, beforeIndex: number | null,
  limit: number, inverted: boolean): Query {
  return {
    text: `SELECT * FROM operation
      WHERE bulk_uuid = $1 AND ($2::text IS NULL OR status = $2)
        AND ($3::int IS NULL OR request_index > $3) AND ($4::int IS NULL OR request_index < $4)
      ORDER BY request_index ${inverted ? 'DESC' : 'ASC'}
      LIMIT $5`,
    values: [bulkUuid, status, afterIndex, beforeIndex, limit]
  }
}

/**
 * Marks operations as begun (first start time, one more attempt) and returns those still to be
 * done. Operations already finished are left out: their job was delivered again after it had
 * committed, and doing it again would do it twice.
 */
export function startOperations (ids: readonly string[]): Query {
  return {
    text: `UPDATE operation
      SET status = '${S.OPEN}', attempts = attempts + 1, started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp()
      WHERE id = ANY($1::uuid[]) AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')
      RETURNING id, bulk_uuid, request_index, data`,
    values: [ids]
  }
}

/** Completes operations with their results; a guarded transition, so finished ones stay as they are. */
export function completeOperations (results: ReadonlyArray<{ id: string, result: unknown }>): Query {
  return {
    text: `UPDATE operation o
      SET status = '${S.COMPLETE}', result = r.result, error_code = NULL, result_message = NULL,
          finished_at = clock_timestamp(), updated_at = clock_timestamp()
      FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, result jsonb)
      WHERE o.id = r.id AND o.status = '${S.OPEN}'`,
    values: [JSON.stringify(results)]
  }
}

/** Records a failure: RETRIABLY_FAILED (a retry follows) or NOT_RETRIABLY_FAILED (final). */
export function failOperation (id: string, status: typeof S.RETRIABLY_FAILED | typeof S.NOT_RETRIABLY_FAILED, errorCode: string, message: string): Query {
  return {
    text: `UPDATE operation
      SET status = $2, error_code = $3, result_message = $4, updated_at = clock_timestamp(),
          finished_at = CASE WHEN $2 = '${S.NOT_RETRIABLY_FAILED}' THEN clock_timestamp() END
      WHERE id = $1 AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')`,
    values: [id, status, errorCode, message]
  }
}

/**
 * Operations whose jobs pg-boss dead-lettered without our handler deciding (the job expired or
 * its worker died until no retries were left) become NOT_RETRIABLY_FAILED, so none stays OPEN.
 */
export function failAbandonedOperations (ids: readonly string[], message: string): Query {
  return {
    text: `UPDATE operation
      SET error_code = CASE WHEN status = '${S.RETRIABLY_FAILED}' THEN 'RETRIES_EXHAUSTED' ELSE 'EXPIRED' END,
          result_message = coalesce(result_message || ' / ', '') || $2,
          status = '${S.NOT_RETRIABLY_FAILED}', finished_at = clock_timestamp(), updated_at = clock_timestamp()
      WHERE id = ANY($1::uuid[]) AND status IN ('${S.OPEN}', '${S.RETRIABLY_FAILED}')`,
    values: [ids, message]
  }
}
