import type { Query } from '../../platform/db/pool.ts'

/**
 * Makes an owner's bulk acceptances take turns until their transactions end, so that two bulks
 * accepted at once cannot both pass OWNER_MAX_OPEN_BULKS. Two keys (a namespace, the owner's hash),
 * so it shares no key with the migrator's single-bigint lock.
 */
export function lockOwnerBulks (owner: string): Query {
  return { text: "SELECT pg_advisory_xact_lock(hashtext('open-bulks'), hashtext($1))", values: [owner] }
}

/**
 * The owner's bulks of more than one operation that are still unfinished (an operation OPEN or
 * RETRIABLY_FAILED), other than `exceptUuid`, the one being accepted. Reads the owner's bulks by
 * bulk_owner_created_at_idx and at most 16 progress rows each; retention bounds how many there are.
 */
export function countOpenBulks (owner: string, exceptUuid: string): Query {
  return {
    text: `SELECT count(*)::int AS open FROM bulk b
      WHERE b.owner = $1 AND b.uuid <> $2 AND b.operation_count > 1
        AND (SELECT coalesce(sum(p.open + p.retriably_failed), 0) FROM bulk_progress p WHERE p.bulk_uuid = b.uuid) > 0`,
    values: [owner, exceptUuid]
  }
}
