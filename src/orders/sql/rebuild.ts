import pg from 'pg'
import type { Query } from '../../platform/db/pool.ts'

/** A page of the events of the streams whose id starts with `prefix`, in stream then version order, after a position in that order. */
export function readStreamsPage (prefix: string, after: { streamId: string, version: number } | null, limit: number): Query {
  return {
    text: `SELECT position, stream_id, stream_version, type, data, metadata, recorded_at FROM event
      WHERE stream_id LIKE $1 || '%' AND ($2::text IS NULL OR (stream_id, stream_version) > ($2::text, $3::int))
      ORDER BY stream_id, stream_version
      LIMIT $4`,
    values: [prefix, after?.streamId ?? null, after?.version ?? 0, limit]
  }
}

/** The events of these streams after a version each (0: all), in stream then version order. */
export function readStreamsAfter (streamIds: readonly string[], afterVersions: readonly number[]): Query {
  return {
    text: `SELECT e.position, e.stream_id, e.stream_version, e.type, e.data, e.metadata, e.recorded_at
      FROM unnest($1::text[], $2::int[]) AS k (stream_id, after_version)
      JOIN event e ON e.stream_id = k.stream_id AND e.stream_version > k.after_version
      ORDER BY e.stream_id, e.stream_version`,
    values: [streamIds, afterVersions]
  }
}

/**
 * The order streams written since the rebuild folded them: live rows at a later version than
 * their copy in `shadowSchema` (or with none there). A live row at version 0 has no view yet
 * (migration 0012): its stream was folded into the copy already.
 */
export function selectOrdersAhead (shadowSchema: string): Query {
  return {
    text: `SELECT 'order-' || o.id AS stream_id FROM orders o LEFT JOIN ${pg.escapeIdentifier(shadowSchema)}.orders s ON s.id = o.id
      WHERE o.version > coalesce(s.version, 0)`,
    values: []
  }
}

/** The SKU streams written since the rebuild folded them, as selectOrdersAhead. */
export function selectInventoryAhead (shadowSchema: string): Query {
  return {
    text: `SELECT 'inventory-' || i.sku AS stream_id FROM inventory i LEFT JOIN ${pg.escapeIdentifier(shadowSchema)}.inventory s ON s.sku = i.sku
      WHERE i.version > coalesce(s.version, 0)`,
    values: []
  }
}

/** The rows of both read models. */
export function countReadModels (): Query {
  return { text: 'SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM inventory) AS inventory', values: [] }
}

/** Whether any order has no view yet (placed before migration 0012). */
export function selectViewsMissing (): Query {
  return { text: 'SELECT EXISTS (SELECT 1 FROM orders WHERE view IS NULL) AS missing', values: [] }
}
