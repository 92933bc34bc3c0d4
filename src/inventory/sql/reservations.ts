import type { Query } from '../../platform/db/pool.ts'
import type { InventoryRow } from './inventory.ts'

/** SKUs' rows as they are now, without a lock: what a placement batch plans its reservations on. */
export function selectStock (skus: readonly string[]): Query {
  return {
    text: `SELECT sku, available, reserved, shipped, version, to_json(updated_at) #>> '{}' AS updated_at
      FROM inventory WHERE sku = ANY($1::text[])`,
    values: [skus]
  }
}

/** What a batch asks of one SKU: the units it reserves, and the events it appends to the SKU's stream. */
export interface SkuReservation {
  readonly sku: string
  readonly streamId: string
  /** Units reserved in all (0 when the batch only found a shortage there). */
  readonly units: number
  /** The version the batch read; the guard of a SKU it found short (nothing may have changed it since). */
  readonly readVersion: number
  /** Whether some order of the batch was refused for this SKU's shortage. */
  readonly short: boolean
  readonly updatedAt: string | null
  readonly events: ReadonlyArray<{ readonly type: string, readonly data: unknown, readonly metadata: unknown }>
}

/** One row per SKU of the batch (a SKU without a row has none), as found under its lock; `ok`: whether the reservations were written. */
export interface ReservedRow extends InventoryRow { ok: boolean }

/**
 * A placement batch's reservations in one statement, so that the SKUs' row locks are held from here
 * to the commit only, not for the whole batch (issue 17, item 3, hot SKUs). It locks the rows (SKU
 * order, as every writer of inventory), then checks the guard of every SKU: enough units available
 * for what the batch reserves there, and no change at all to a SKU where the batch decided a
 * shortage (the shortage was read, not guessed). Only when every guard holds does it update the
 * rows (relative to what it found under the lock) and append the events, numbered from the locked
 * version; otherwise it writes nothing. It answers the rows as found under the lock, each with the
 * verdict. The `available >= 0` check of the table stays the last line of defence.
 */
export function reserveStock (reservations: readonly SkuReservation[]): Query {
  return {
    text: `WITH d AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS d (sku text, units bigint, read_version int, short boolean, updated_at timestamptz, events int)
      ), locked AS (
        SELECT i.sku, i.available, i.reserved, i.shipped, i.version, i.updated_at FROM inventory i
        WHERE i.sku IN (SELECT sku FROM d) ORDER BY i.sku FOR UPDATE
      ), verdict AS (
        SELECT count(*) = (SELECT count(*) FROM d)
               AND coalesce(bool_and(l.available >= d.units AND (NOT d.short OR l.version = d.read_version)), true) AS ok
        FROM d JOIN locked l USING (sku)
      ), updated AS (
        UPDATE inventory i SET available = l.available - d.units, reserved = l.reserved + d.units,
                               version = l.version + d.events, updated_at = greatest(l.updated_at, d.updated_at)
        FROM d JOIN locked l USING (sku)
        WHERE i.sku = d.sku AND d.events > 0 AND (SELECT ok FROM verdict)
        RETURNING i.sku, l.version AS from_version
      ), appended AS (
        INSERT INTO event (stream_id, stream_version, type, data, metadata)
        SELECT e.stream_id, u.from_version + e.n, e.type, e.data, e.metadata
        FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (sku text, stream_id text, n int, type text, data jsonb, metadata jsonb)) AS e
        JOIN updated u USING (sku)
        ORDER BY e.sku, e.n
      )
      SELECT l.sku, l.available, l.reserved, l.shipped, l.version, to_json(l.updated_at) #>> '{}' AS updated_at, (SELECT ok FROM verdict) AS ok
      FROM locked l ORDER BY l.sku`,
    values: [
      JSON.stringify(reservations.map(r => ({ sku: r.sku, units: r.units, read_version: r.readVersion, short: r.short, updated_at: r.updatedAt, events: r.events.length }))),
      JSON.stringify(reservations.flatMap(r => r.events.map((e, i) => ({ sku: r.sku, stream_id: r.streamId, n: i + 1, type: e.type, data: e.data, metadata: e.metadata }))))
    ]
  }
}
