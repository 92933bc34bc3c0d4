import type { Query } from '../db/pool.ts'

/**
 * Takes an idempotency key for this transaction. When another transaction holds it, this waits
 * for that one to end (the primary key's uniqueness check), so two racing requests with one key
 * are answered one after the other. Returns no row when the key was already taken.
 */
export function claimIdempotencyKey (key: string): Query {
  return {
    text: `INSERT INTO idempotency_key (key, request_hash) VALUES ($1, '') ON CONFLICT (key) DO NOTHING RETURNING key`,
    values: [key]
  }
}

export function selectIdempotencyKey (key: string): Query {
  return { text: 'SELECT request_hash, response FROM idempotency_key WHERE key = $1', values: [key] }
}

export function recordIdempotentResponse (key: string, requestHash: string, bulkUuid: string, response: unknown): Query {
  return {
    text: 'UPDATE idempotency_key SET request_hash = $2, bulk_uuid = $3, response = $4 WHERE key = $1',
    values: [key, requestHash, bulkUuid, JSON.stringify(response)]
  }
}
