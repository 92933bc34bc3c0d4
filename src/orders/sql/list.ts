import type { Query } from '../../platform/db/pool.ts'

/**
 * Reads of the orders read model beyond src/orders/sql/orders.ts (issue 4, the API side): pages in
 * both directions with exact keys, and finding the order a number names before it is placed.
 */

/** An order's place in the list, newest first: its placed_at as PostgreSQL prints it (exact), and its id. */
export interface OrderKey { readonly placedAt: string, readonly id: string }

/** A row of a page: the view, and its key for cursors. */
export interface OrderPageRow { view: unknown, placed_at_key: string }

/**
 * One page of an owner's orders (null: every owner's), newest first, optionally of one status:
 * after `after` and before `before` when given; `inverted` reads from the oldest end (a `last: n`
 * page). Keyset on (placed_at, id), served by orders_owner_placed_idx / orders_owner_status_placed_idx.
 */
export function selectOrderViewsPage (owner: string | null, status: string | null, after: OrderKey | null, before: OrderKey | null,
  limit: number, inverted: boolean): Query {
  return {
    text: `SELECT view, placed_at::text AS placed_at_key FROM orders
      WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR status = $2) AND view IS NOT NULL
        AND ($3::timestamptz IS NULL OR (placed_at, id) < ($3::timestamptz, $4::uuid))
        AND ($5::timestamptz IS NULL OR (placed_at, id) > ($5::timestamptz, $6::uuid))
      ORDER BY placed_at ${inverted ? 'ASC' : 'DESC'}, id ${inverted ? 'ASC' : 'DESC'}
      LIMIT $7`,
    values: [owner, status, after?.placedAt ?? null, after?.id ?? null, before?.placedAt ?? null, before?.id ?? null, limit]
  }
}

/**
 * The id of the order a number names, if `owner` may see it (null: any owner): the placed order's,
 * else, for an order accepted and not placed yet, its placement operation's (which becomes the
 * order's id when it is placed, src/orders/placement.ts).
 */
export function selectOrderIdByNumber (orderNumber: string, owner: string | null, placementTopic: string): Query {
  return {
    text: `(SELECT id FROM orders WHERE order_number = $1 AND ($2::text IS NULL OR owner = $2))
      UNION ALL
      (SELECT o.id FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
        WHERE o.ordering_key = $1 AND o.topic = $3 AND ($2::text IS NULL OR b.owner = $2))
      LIMIT 1`,
    values: [orderNumber, owner, placementTopic]
  }
}

/** An operation's status (no row: it was deleted by retention). */
export function selectOperationStatus (id: string): Query {
  return { text: 'SELECT status FROM operation WHERE id = $1', values: [id] }
}
