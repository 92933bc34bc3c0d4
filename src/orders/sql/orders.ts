import type { Query } from '../../platform/db/pool.ts'
import type { OrderView } from '../orderView.ts'

/**
 * Whether `owner` (null: any owner) may act on the order this number names: the order's own owner
 * once it is placed (its bulk may be gone: retention deletes bulks, never orders; issue 13, item
 * 4), else the owner of the bulk that accepted its placement.
 */
export function selectOrderOwned (orderNumber: string, owner: string | null, placementTopic: string): Query {
  return {
    text: `SELECT EXISTS (SELECT 1 FROM orders WHERE order_number = $1 AND ($2::text IS NULL OR owner = $2))
        OR EXISTS (SELECT 1 FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
                   WHERE o.ordering_key = $1 AND o.topic = $3 AND ($2::text IS NULL OR b.owner = $2)
                     AND NOT EXISTS (SELECT 1 FROM orders WHERE order_number = $1)) AS owned`,
    values: [orderNumber, owner, placementTopic]
  }
}

/**
 * Which of these order numbers are taken: by an order, or by a placement or import accepted under
 * it and not placed yet (its operation's ordering key). An import under a taken number is REJECTED.
 */
export function selectOrderNumbersTaken (orderNumbers: readonly string[], placementTopic: string): Query {
  return {
    text: `SELECT n AS order_number FROM unnest($1::text[]) AS n
      WHERE EXISTS (SELECT 1 FROM orders WHERE order_number = n)
         OR EXISTS (SELECT 1 FROM operation WHERE ordering_key = n AND topic = $2)`,
    values: [orderNumbers, placementTopic]
  }
}

/**
 * Writes the views of orders (insert or replace), the columns lists filter on drawn from the view.
 * A view only moves forward: a row already at a later version (a rebuild racing a step) is kept.
 * `operation_id` names the placement only while its bulk is kept (retention deletes it, and the
 * column is set to NULL then), so a rebuild writes what the live row holds.
 */
export function upsertOrderViews (views: readonly OrderView[]): Query {
  return {
    text: `INSERT INTO orders AS o (id, order_number, operation_id, owner, customer_email, currency, items, shipping_address,
                                   total, status, view, version, placed_at, updated_at, created_at)
      SELECT (v->>'id')::uuid, v->>'number', (SELECT op.id FROM operation op WHERE op.id = (v->>'operationId')::uuid), v->>'owner', v->>'customerEmail', v->>'currency',
             v->'lines', v->'shippingAddress', (v->>'total')::numeric, v->>'status', v, (v->>'version')::int,
             (v->>'placedAt')::timestamptz, (v->>'updatedAt')::timestamptz, (v->>'placedAt')::timestamptz
      FROM jsonb_array_elements($1::jsonb) AS v
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, view = EXCLUDED.view, version = EXCLUDED.version,
                                     updated_at = EXCLUDED.updated_at
      WHERE o.version < EXCLUDED.version`,
    values: [JSON.stringify(views)]
  }
}

/**
 * Locks the rows of orders about to change, in id order, and answers the version each is at, so that two transactions writing the
 * same orders wait for each other instead of conflicting on the stream version (or deadlocking).
 */
export function lockOrders (ids: readonly string[]): Query {
  return { text: 'SELECT id, version FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', values: [ids] }
}

/** Ids of orders by number (any owner: callers checked ownership when the work was accepted). */
export function selectOrderIds (numbers: readonly string[]): Query {
  return { text: 'SELECT id, order_number FROM orders WHERE order_number = ANY($1::text[])', values: [numbers] }
}

/** One order's view, if `owner` may see it (null: any owner, for admins). */
export function selectOrderView (number: string, owner: string | null): Query {
  return {
    text: 'SELECT view FROM orders WHERE order_number = $1 AND ($2::text IS NULL OR owner = $2) AND view IS NOT NULL',
    values: [number, owner]
  }
}

/** Keyset position in an owner's orders, newest first. */
