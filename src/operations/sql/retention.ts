import type { Query } from '../../platform/db/pool.ts'

/**
 * Deletes a batch of expired bulks, oldest first. A bulk's cutoff is `cutoff`, or `failedCutoff`
 * (earlier) when an operation of it failed for good. It goes when it was created before its cutoff
 * and is finished, with no operation finished since its cutoff and no retryBulk since (a bulk
 * retried lately is kept), and none of its placements' orders is still live (PLACED or CANCELING:
 * issue 13, item 4), and no idempotency key still answers with it (a replayed upload's answer is
 * read from its operations: IDEMPOTENCY_TTL_HOURS may be set longer than RETENTION_DAYS, and the
 * bulk then stays until its key goes). The batch takes bulks while their operations add up to `maxOperations`, and
 * always at least one, so that one statement's work stays bounded whatever the bulks' sizes.
 * The statement deletes the bulks' operations with them (no foreign key cascades to them:
 * migrations/0030); progress rows and notifications go by ON DELETE CASCADE; orders stay, their
 * operation_id set to NULL.
 *
 * The race with retryBulk (issue 13, item 5): the candidates are read from the statement's
 * snapshot, so a retry committed after it is not seen there. retryBulk holds the bulk's row lock
 * while it reopens operations and sets bulk.reopened_at in the same transaction; the DELETE waits
 * for that lock and then checks `reopened_at` again on the row as the retry left it (PostgreSQL
 * re-evaluates a DELETE's conditions on the row's latest version), so a bulk reopened meanwhile
 * is skipped. A retry that comes after the delete finds no bulk.
 */
export function deleteExpiredBulks (cutoff: Date, failedCutoff: Date, maxBulks: number, maxOperations: number): Query {
  return {
    // ORDER BY created_at, uuid DESC: bulk_created_at_idx (created_at DESC, uuid) read backwards,
    // so that the scan stops at the batch instead of sorting every old bulk.
    text: `WITH candidates AS (
        SELECT b.uuid, b.created_at, b.operation_count, c.cutoff
        FROM bulk b
        CROSS JOIN LATERAL (SELECT s.finished_at, s.not_retriably_failed FROM bulk_summary s WHERE s.uuid = b.uuid) s
        CROSS JOIN LATERAL (SELECT CASE WHEN s.not_retriably_failed > 0 THEN $4::timestamptz ELSE $1::timestamptz END AS cutoff) c
        WHERE b.created_at < $1 AND s.finished_at IS NOT NULL AND b.created_at < c.cutoff
          AND (b.reopened_at IS NULL OR b.reopened_at < c.cutoff)
          AND NOT EXISTS (SELECT 1 FROM operation o WHERE o.bulk_uuid = b.uuid AND o.finished_at >= c.cutoff)
          AND NOT EXISTS (SELECT 1 FROM orders live JOIN operation o ON o.id = live.operation_id
                          WHERE o.bulk_uuid = b.uuid AND live.status IN ('PLACED', 'CANCELING'))
          AND NOT EXISTS (SELECT 1 FROM idempotency_key k WHERE k.bulk_uuid = b.uuid)
        ORDER BY b.created_at, b.uuid DESC
        LIMIT $2
      ), batch AS (
        SELECT uuid, cutoff,
               sum(operation_count) OVER (ORDER BY created_at, uuid DESC) AS operations_so_far,
               row_number() OVER (ORDER BY created_at, uuid DESC) AS position
        FROM candidates
      ), deleted AS (
        DELETE FROM bulk b USING batch
        WHERE b.uuid = batch.uuid AND (batch.operations_so_far <= $3 OR batch.position = 1)
          AND (b.reopened_at IS NULL OR b.reopened_at < batch.cutoff)
        RETURNING b.uuid, b.operation_count
      ), deleted_operations AS (
        -- Only those of the bulks actually deleted: a bulk the DELETE skipped (reopened) keeps its own.
        DELETE FROM operation o USING deleted WHERE o.bulk_uuid = deleted.uuid
      )
      SELECT count(*)::int AS bulks, coalesce(sum(operation_count), 0)::int AS operations FROM deleted`,
    values: [cutoff, maxBulks, maxOperations, failedCutoff]
  }
}

/** Whether a table exists (the idempotency keys arrive with another part of issue 3). */
export function selectTableExists (name: string): Query {
  return { text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [name] }
}

/**
 * Deletes up to `limit` idempotency keys created before `cutoff`. By ctid, so that it relies on
 * nothing of the table but created_at (and its index); the TID scan reads only the rows chosen.
 */
export function deleteExpiredIdempotencyKeys (cutoff: Date, limit: number): Query {
  return {
    text: `WITH deleted AS (
        DELETE FROM idempotency_key
        WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_key WHERE created_at < $1 LIMIT $2))
        RETURNING 1
      )
      SELECT count(*)::int AS deleted FROM deleted`,
    values: [cutoff, limit]
  }
}
