import type { Query } from '../../platform/db/pool.ts'
import type { OrderExportData } from '../domain/export.ts'

/**
 * The orders an export writes (src/orders/export.ts), as conditions on the orders read model:
 * $1 owner (null: every owner's), $2 status, $3 placed at or after, $4 placed before, $5 customer
 * email (any case), $6 a SKU among its lines. Null: no condition.
 */
const MATCHING = `FROM orders o
  WHERE o.view IS NOT NULL AND ($1::text IS NULL OR o.owner = $1) AND ($2::text IS NULL OR o.status = $2)
    AND ($3::timestamptz IS NULL OR o.placed_at >= $3) AND ($4::timestamptz IS NULL OR o.placed_at < $4)
    AND ($5::text IS NULL OR lower(o.customer_email) = lower($5))
    AND ($6::text IS NULL OR o.items @> jsonb_build_array(jsonb_build_object('sku', $6::text)))`

function filterValues (data: OrderExportData): unknown[] {
  const f = data.filter
  return [data.owner, f.status ?? null, f.placedFrom ?? null, f.placedTo ?? null, f.customerEmail ?? null, f.sku ?? null]
}

export function countOrdersToExport (data: OrderExportData): Query {
  return { text: `SELECT count(*)::text AS total ${MATCHING}`, values: filterValues(data) }
}

/**
 * One line per order, oldest first (placed_at, id): its view as the `order` query serves it, without
 * `steps` unless $7, with `events` (its stream, in order) when $8. Built as text by PostgreSQL, so
 * that the worker only joins lines.
 */
export function selectOrderExportLines (data: OrderExportData): Query {
  return {
    text: `SELECT (CASE WHEN $7::boolean THEN o.view ELSE o.view - 'steps' END
        || CASE WHEN $8::boolean THEN jsonb_build_object('events', coalesce((
             SELECT jsonb_agg(jsonb_build_object('version', e.stream_version, 'type', e.type, 'data', e.data, 'recordedAt', e.recorded_at)
                              ORDER BY e.stream_version)
             FROM event e WHERE e.stream_id = 'order-' || o.id), '[]'::jsonb))
           ELSE '{}'::jsonb END)::text AS line
      ${MATCHING}
      ORDER BY o.placed_at, o.id`,
    values: [...filterValues(data), data.include.includes('STEPS'), data.include.includes('EVENTS')]
  }
}
