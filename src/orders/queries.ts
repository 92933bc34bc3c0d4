import type { Query } from '../db/pool.ts'

export interface NewOrder {
  id: string
  operationId: string
  /** Given at acceptance (operation.ordering_key); null for operations accepted before numbers were. */
  orderNumber: string | null
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
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, operation_id uuid, order_number text, customer_email text,
                                                          currency text, items jsonb, shipping_address jsonb, total numeric)
      ), inserted AS (
        INSERT INTO orders (id, order_number, operation_id, customer_email, currency, items, shipping_address, total, status)
        SELECT id, coalesce(order_number, order_number(nextval('order_number_seq'))), operation_id, customer_email, currency,
               items, shipping_address, total, 'PLACED'
        FROM input
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
      order_number: order.orderNumber,
      customer_email: order.customerEmail,
      currency: order.currency,
      items: order.items,
      shipping_address: order.shippingAddress,
      total: order.total
    })))]
  }
}

/** Whether an order was accepted for placement under this number, in a bulk `owner` may see (null: any). */
export function selectPlacementExists (orderNumber: string, owner: string | null): Query {
  return {
    text: `SELECT 1 FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
      WHERE o.ordering_key = $1 AND o.topic = 'order.place' AND ($2::text IS NULL OR b.owner = $2)`,
    values: [orderNumber, owner]
  }
}

/** Cancels placed orders; returns each named order's status afterwards (none: the order does not exist). */
export function cancelOrders (orderNumbers: readonly string[]): Query {
  return {
    text: `WITH canceled AS (
        UPDATE orders SET status = 'CANCELED' WHERE order_number = ANY($1::text[]) AND status = 'PLACED'
        RETURNING order_number, status
      )
      SELECT order_number, status FROM canceled
      UNION ALL
      SELECT order_number, status FROM orders
      WHERE order_number = ANY($1::text[]) AND order_number NOT IN (SELECT order_number FROM canceled)`,
    values: [orderNumbers]
  }
}

/** Order numbers of operations' orders, read in a statement of its own (it sees orders committed meanwhile). */
export function selectOrderNumbers (operationIds: readonly string[]): Query {
  return { text: 'SELECT operation_id, order_number FROM orders WHERE operation_id = ANY($1::uuid[])', values: [operationIds] }
}
