import type { Query } from '../../platform/db/pool.ts'
import { OPERATION_STATUS as S } from '../domain/status.ts'
import { operationRow, type NewBulk, type NewOperation } from './bulks.ts'

/**
 * The statements of a group commit (src/operations/groupCommit.ts): the acceptances of several
 * requests written together, one statement for each kind of row, whatever the number of requests.
 */

/** An operation of one of the bulks a group commit writes. */
export interface GroupedOperation {
  readonly bulkUuid: string
  readonly operation: NewOperation
}

/**
 * Several bulks and their operations in one statement (as insertBulkWithOperations does for one).
 * Operations are numbered in the order given, so that operations on one order keep the order their
 * requests were accepted in. Returns each operation's id and ordering key (order number).
 * An operation takes its bulk_uuid from a bulk this statement inserts (no foreign key checks it:
 * migrations/0030), so one naming another bulk fails the statement on bulk_uuid's NOT NULL.
 */
export function insertBulksWithOperations (bulks: readonly NewBulk[], operations: readonly GroupedOperation[]): Query {
  return {
    text: `WITH new_bulk AS (
        INSERT INTO bulk (uuid, owner, description, operation_count, notify_url, owner_role, kind, created_by, not_after)
        SELECT b.uuid, b.owner, b.description, b.operation_count, b.notify_url, b.owner_role, b.kind, b.created_by, b.not_after
        FROM jsonb_to_recordset($1::jsonb) AS b (uuid uuid, owner text, description text, operation_count integer, notify_url text,
                                                 owner_role text, kind text, created_by text, not_after timestamptz)
        RETURNING uuid
      )
      INSERT INTO operation (id, job_id, bulk_uuid, request_index, topic, status, data, data_hash, error_code, result_message, finished_at, ordering_key)
      SELECT r.id, CASE WHEN r.status = '${S.OPEN}' THEN r.id END, (SELECT b.uuid FROM new_bulk b WHERE b.uuid = r.bulk_uuid), r.index, r.topic, r.status, coalesce(r.data, 'null'), r.data_hash,
             r.error_code, r.message, CASE WHEN r.status = '${S.REJECTED}' THEN now() END,
             CASE WHEN r.number_order AND r.status = '${S.OPEN}' THEN order_number(nextval('order_number_seq')) ELSE r.ordering_key END
      FROM jsonb_to_recordset($2::jsonb) AS r (bulk_uuid uuid, id uuid, index integer, topic text, status text, data jsonb,
                                               data_hash text, error_code text, message text, ordering_key text, number_order boolean, position integer)
      ORDER BY r.position
      RETURNING id, ordering_key`,
    values: [
      JSON.stringify(bulks.map(bulk => ({
        uuid: bulk.uuid,
        owner: bulk.owner,
        description: bulk.description,
        operation_count: bulk.operationCount,
        notify_url: bulk.notifyUrl,
        owner_role: bulk.ownerRole,
        kind: bulk.kind,
        created_by: bulk.createdBy,
        not_after: bulk.notAfter
      }))),
      // A grouped operation's job id is its own id (the SQL above); its jobId is unset and JSON leaves it out.
      JSON.stringify(operations.map(({ bulkUuid, operation: op }, position) => ({ position, bulk_uuid: bulkUuid, ...operationRow(op) })))
    ]
  }
}

/**
 * Takes several idempotency keys for this transaction (as claimIdempotencyKey does one); returns
 * the keys taken. A key another transaction holds makes this wait for that one to end.
 */
export function claimIdempotencyKeys (keys: ReadonlyArray<{ owner: string, key: string }>): Query {
  return {
    text: `INSERT INTO idempotency_key (owner, key, request_hash)
      SELECT owner, key, '' FROM unnest($1::text[], $2::text[]) AS k (owner, key)
      ON CONFLICT (owner, key) DO NOTHING RETURNING owner, key`,
    values: [keys.map(k => k.owner), keys.map(k => k.key)]
  }
}

/** Records the responses of several requests under the keys they claimed (recordIdempotentResponse for many). */
export function recordIdempotentResponses (records: ReadonlyArray<{ owner: string, key: string, requestHash: string, bulkUuid: string, response: unknown }>): Query {
  return {
    text: `UPDATE idempotency_key k SET request_hash = r.request_hash, bulk_uuid = r.bulk_uuid, response = r.response
      FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::jsonb[]) AS r (owner, key, request_hash, bulk_uuid, response)
      WHERE k.owner = r.owner AND k.key = r.key`,
    values: [records.map(r => r.owner), records.map(r => r.key), records.map(r => r.requestHash), records.map(r => r.bulkUuid),
      records.map(r => JSON.stringify(r.response))]
  }
}
