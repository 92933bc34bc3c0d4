import type { Query } from '../../platform/db/pool.ts'

/**
 * Takes an idempotency key for this transaction. When another transaction holds it, this waits
 * for that one to end (the primary key's uniqueness check), so two racing requests with one key
 * are answered one after the other. Returns no row when the key was already taken.
 */
export function claimIdempotencyKey (owner: string, key: string): Query {
  return {
    text: 'INSERT INTO idempotency_key (owner, key, request_hash) VALUES ($1, $2, \'\') ON CONFLICT (owner, key) DO NOTHING RETURNING key',
    values: [owner, key]
  }
}

export function selectIdempotencyKey (owner: string, key: string): Query {
  return { text: 'SELECT request_hash, response FROM idempotency_key WHERE owner = $1 AND key = $2', values: [owner, key] }
}

export function recordIdempotentResponse (owner: string, key: string, requestHash: string, bulkUuid: string, response: unknown): Query {
  return {
    text: 'UPDATE idempotency_key SET request_hash = $3, bulk_uuid = $4, response = $5 WHERE owner = $1 AND key = $2',
    values: [owner, key, requestHash, bulkUuid, JSON.stringify(response)]
  }
}
