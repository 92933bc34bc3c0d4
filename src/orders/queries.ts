import type { Query } from '../db/pool.ts'

export interface NewOrder {
  id: string
  operationId: string
  customerEmail: string
  currency: string
  items: unknown
  shippingAddress: unknown
  total: string
}

/**
 * Creates the orders of a batch in one statement with human-readable numbers (ORD-00000042).
 * `operation_id` is unique: an order whose operation already has one is not created again, and
 * the existing order's number is returned in its place.
 */
export function insertOrders (orders: readonly NewOrder[]): Query {
  return {
    text: `WITH input AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, operation_id uuid, customer_email text, currency text,
                                                          items jsonb, shipping_address jsonb, total numeric)
      ), inserted AS (
        INSERT INTO orders (id, order_number, operation_id, customer_email, currency, items, shipping_address, total, status)
        SELECT id, 'ORD-' || lpad(n::text, greatest(8, length(n::text)), '0'), operation_id, customer_email, currency,
               items, shipping_address, total, 'PLACED'
        FROM (SELECT *, nextval('order_number_seq') AS n FROM input) numbered
        ON CONFLICT (operation_id) DO NOTHING
        RETURNING operation_id, order_number
      )
      SELECT operation_id, order_number FROM inserted
      UNION ALL
      SELECT o.operation_id, o.order_number FROM orders o JOIN input i ON i.operation_id = o.operation_id
      WHERE NOT EXISTS (SELECT 1 FROM inserted WHERE inserted.operation_id = o.operation_id)`,
    values: [JSON.stringify(orders.map(order => ({
      id: order.id,
      operation_id: order.operationId,
      customer_email: order.customerEmail,
      currency: order.currency,
      items: order.items,
      shipping_address: order.shippingAddress,
      total: order.total
    })))]
  }
}

/** Order numbers of operations' orders, read in a statement of its own (it sees orders committed meanwhile). */
export function selectOrderNumbers (operationIds: readonly string[]): Query {
  return { text: 'SELECT operation_id, order_number FROM orders WHERE operation_id = ANY($1::uuid[])', values: [operationIds] }
}
