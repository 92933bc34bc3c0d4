import type { Query } from '../../platform/db/pool.ts'

/** How many rows of callers that went quiet one new window deletes: few, so that no request pays much for it. */
export const RATE_LIMIT_SWEEP_BATCH = 100

export interface RateLimitGrant {
  /** Hits of this key in the current window, every gateway's leases included, this one's too. */
  readonly hits: number
  /** Hits this statement granted: what was asked for, or less when the limit leaves less (0 when it leaves none). */
  readonly granted: number
  /** Start of the current window, in whole seconds since the epoch on the database's clock. */
  readonly window_start: string
  /** Milliseconds until the current window ends, on the database's clock. */
  readonly ends_in_ms: number
}

/**
 * Grants up to `want` hits of `key` in the current fixed window of `windowSeconds`, never past
 * `limit`, in one statement: the hits are counted at once, for the gateway to spend from memory
 * (src/access/rateLimitLeases.ts). Windows are aligned on the database's clock, so that every
 * gateway counts in the same ones. A grant in a later window than the row's starts it over; a grant
 * of a transaction that began before another one moved the row on counts in the newer window
 * (GREATEST), never moving it back.
 *
 * Opening a new window (hits = granted) also deletes up to RATE_LIMIT_SWEEP_BATCH rows of other
 * keys whose window has ended, found by the window_start index and deleted by their row ids (a TID
 * scan, whatever the table's size); SKIP LOCKED keeps two gateways doing so at once from waiting on
 * each other.
 */
export function claimRateLimit (key: string, windowSeconds: number, want: number, limit: number): Query {
  return {
    name: 'claim_rate_limit',
    text: `WITH clock AS (
        SELECT to_timestamp(floor(extract(epoch FROM now()) / $2::int) * $2::int) AS window_start
      ), hit AS (
        INSERT INTO rate_limit AS r (key, window_start, hits, last_grant)
        SELECT $1, window_start, LEAST($4::int, $5::int), LEAST($4::int, $5::int) FROM clock
        ON CONFLICT (key) DO UPDATE
          SET hits = CASE WHEN r.window_start >= EXCLUDED.window_start THEN r.hits + GREATEST(0, LEAST($4::int, $5::int - r.hits)) ELSE EXCLUDED.hits END,
              last_grant = CASE WHEN r.window_start >= EXCLUDED.window_start THEN GREATEST(0, LEAST($4::int, $5::int - r.hits)) ELSE EXCLUDED.hits END,
              window_start = GREATEST(r.window_start, EXCLUDED.window_start)
        RETURNING hits, last_grant, window_start
      ), swept AS (
        DELETE FROM rate_limit
        WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM rate_limit
            WHERE window_start < (SELECT window_start FROM clock) AND key <> $1
            ORDER BY window_start
            LIMIT $3
            FOR UPDATE SKIP LOCKED))
          AND EXISTS (SELECT 1 FROM hit WHERE hits = last_grant)
      )
      SELECT hits, last_grant AS granted, extract(epoch FROM window_start)::bigint::text AS window_start,
             greatest(0, extract(epoch FROM hit.window_start + make_interval(secs => $2::int) - now()) * 1000)::float8 AS ends_in_ms
      FROM hit`,
    values: [key, windowSeconds, RATE_LIMIT_SWEEP_BATCH, want, limit]
  }
}

/** A lease a gateway gives back: `hits` of `key` it was granted in the window starting at `windowStart` (epoch seconds) and did not use. */
export interface UnusedLease {
  readonly key: string
  readonly windowStart: string
  readonly hits: number
}

/**
 * Gives unused leases back, in one statement, so that other gateways may grant them. Only in the
 * window they were granted in (a later window has started over), and never the row's last hits
 * (those would leave a row of 0; they lapse with the window).
 */
export function returnRateLimitLeases (leases: readonly UnusedLease[]): Query {
  return {
    name: 'return_rate_limit_leases',
    text: `UPDATE rate_limit AS r SET hits = r.hits - g.hits
      FROM unnest($1::text[], $2::bigint[], $3::int[]) AS g(key, window_start, hits)
      WHERE r.key = g.key AND r.window_start = to_timestamp(g.window_start) AND r.hits > g.hits`,
    values: [leases.map(lease => lease.key), leases.map(lease => lease.windowStart), leases.map(lease => lease.hits)]
  }
}
