import type { Query } from '../../platform/db/pool.ts'

/** How many rows of callers that went quiet one new window deletes: few, so that no request pays much for it. */
export const RATE_LIMIT_SWEEP_BATCH = 100

export interface RateLimitHit {
  /** Hits of this key in the current window, this one included. */
  readonly hits: number
  /** Whole seconds until the current window ends (at least 1). */
  readonly retry_after: number
}

/**
 * Counts `hits` hits (one operation's) of `key` in the current fixed window of `windowSeconds`, in
 * one statement, and returns the count. Windows are aligned on the database's clock, so that every gateway counts in
 * the same ones. A hit in a later window than the row's starts it over; a hit of a transaction
 * that began before another one moved the row on counts in the newer window (GREATEST), never
 * moving it back.
 *
 * Opening a new window (the count is this call's hits) also deletes up to RATE_LIMIT_SWEEP_BATCH rows of other keys
 * whose window has ended, found by the window_start index and deleted by their row ids (a TID scan,
 * whatever the table's size); SKIP LOCKED keeps two gateways doing so at once from waiting on each
 * other. Any other hit skips that part (a one-time filter on `hit`).
 */
export function hitRateLimit (key: string, windowSeconds: number, hits = 1): Query {
  return {
    name: 'hit_rate_limit',
    text: `WITH clock AS (
        SELECT to_timestamp(floor(extract(epoch FROM now()) / $2::int) * $2::int) AS window_start
      ), hit AS (
        INSERT INTO rate_limit AS r (key, window_start, hits)
        SELECT $1, window_start, $4::int FROM clock
        ON CONFLICT (key) DO UPDATE
          SET hits = CASE WHEN r.window_start >= EXCLUDED.window_start THEN r.hits + $4::int ELSE $4::int END,
              window_start = GREATEST(r.window_start, EXCLUDED.window_start)
        RETURNING hits, window_start
      ), swept AS (
        DELETE FROM rate_limit
        WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM rate_limit
            WHERE window_start < (SELECT window_start FROM clock) AND key <> $1
            ORDER BY window_start
            LIMIT $3
            FOR UPDATE SKIP LOCKED))
          AND EXISTS (SELECT 1 FROM hit WHERE hits = $4::int)
      )
      SELECT hits,
             greatest(1, ceil(extract(epoch FROM hit.window_start + make_interval(secs => $2::int) - now())))::int AS retry_after
      FROM hit`,
    values: [key, windowSeconds, RATE_LIMIT_SWEEP_BATCH, hits]
  }
}
