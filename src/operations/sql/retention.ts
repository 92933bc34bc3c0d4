import type { Query } from '../../platform/db/pool.ts'

/**
 * Deletes a batch of expired bulks, oldest first: created before `cutoff`, finished, and with no
 * operation finished since `cutoff` (a bulk retried lately is kept). The batch takes bulks while
 * their operations add up to `maxOperations`, and always at least one, so that one statement's
 * work stays bounded whatever the bulks' sizes. Operations, progress rows and notifications go
 * with their bulk (ON DELETE CASCADE); orders stay, their operation_id set to NULL.
 */
export function deleteExpiredBulks (cutoff: Date, maxBulks: number, maxOperations: number): Query {
  return {
    // ORDER BY created_at, uuid DESC: bulk_created_at_idx (created_at DESC, uuid) read backwards,
    // so that the scan stops at the batch instead of sorting every old bulk.
    text: `WITH candidates AS (
        SELECT b.uuid, b.created_at, b.operation_count
        FROM bulk b
        CROSS JOIN LATERAL (SELECT s.finished_at FROM bulk_summary s WHERE s.uuid = b.uuid) s
        WHERE b.created_at < $1 AND s.finished_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM operation o WHERE o.bulk_uuid = b.uuid AND o.finished_at >= $1)
        ORDER BY b.created_at, b.uuid DESC
        LIMIT $2
      ), batch AS (
        SELECT uuid,
               sum(operation_count) OVER (ORDER BY created_at, uuid DESC) AS operations_so_far,
               row_number() OVER (ORDER BY created_at, uuid DESC) AS position
        FROM candidates
      ), deleted AS (
        DELETE FROM bulk b USING batch
        WHERE b.uuid = batch.uuid AND (batch.operations_so_far <= $3 OR batch.position = 1)
        RETURNING b.operation_count
      )
      SELECT count(*)::int AS bulks, coalesce(sum(operation_count), 0)::int AS operations FROM deleted`,
    values: [cutoff, maxBulks, maxOperations]
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
