import type { Query } from '../../platform/db/pool.ts'

/** Writers of the read models wait until the rebuild commits; readers go on reading the old rows. */
export function lockReadModels (): Query {
  return { text: 'LOCK TABLE orders, inventory IN EXCLUSIVE MODE', values: [] }
}

/** The orders read model emptied, to be folded again from the log (a row with no stream goes too). */
export function clearOrders (): Query {
  return { text: 'DELETE FROM orders', values: [] }
}

export function clearInventory (): Query {
  return { text: 'DELETE FROM inventory', values: [] }
}

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

/** Whether any order has no view yet (placed before migration 0012). */
export function selectViewsMissing (): Query {
  return { text: 'SELECT EXISTS (SELECT 1 FROM orders WHERE view IS NULL) AS missing', values: [] }
}
