-- The read models of issue 4 (CQRS): `orders` becomes the projection of the order streams, and
-- `inventory` the projection (and the write side's snapshot) of the SKU streams. Both are written
-- in the transaction that appends the events they follow, and rebuilt from the log by
-- `npm run projections:rebuild` (src/projections/rebuild.ts).

-- An order is now the order stream `order-<id>`, and its id is its placement operation's id, so a
-- placement delivered twice finds its stream. `view` is the whole OrderView (src/projections/
-- orderView.ts); the other columns are what lists filter and sort on.
ALTER TABLE orders ADD COLUMN owner text;
ALTER TABLE orders ADD COLUMN view jsonb;
ALTER TABLE orders ADD COLUMN version integer NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN placed_at timestamptz;
ALTER TABLE orders ADD COLUMN updated_at timestamptz;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('PLACED', 'COMPLETED', 'CANCELED', 'FAILED'));

-- Orders placed before the event store existed get their OrderPlaced (and OrderCanceled), in the
-- shape src/domain/order/events.ts declares, so that a rebuild keeps them. Their chain is not run.
INSERT INTO event (stream_id, stream_version, type, data, metadata)
SELECT 'order-' || o.id, 1, 'OrderPlaced',
       jsonb_build_object(
         'orderId', o.id, 'orderNumber', o.order_number, 'customerEmail', o.customer_email,
         'currency', o.currency, 'lines', o.items, 'shippingAddress', o.shipping_address,
         'paymentToken', 'tok_visa', 'owner', coalesce(b.owner, 'admin'),
         'total', to_char(o.total, 'FM9999999999999999990.0000'),
         'placedAt', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
       jsonb_build_object('correlationId', coalesce(op.bulk_uuid::text, ''), 'causationId', o.operation_id)
FROM orders o
LEFT JOIN operation op ON op.id = o.operation_id
LEFT JOIN bulk b ON b.uuid = op.bulk_uuid;
INSERT INTO event (stream_id, stream_version, type, data, metadata)
SELECT 'order-' || o.id, 2, 'OrderCanceled',
       jsonb_build_object('reason', 'REQUESTED', 'canceledAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
       '{}'::jsonb
FROM orders o WHERE o.status = 'CANCELED';
-- Their views are folded from these events at the next start (src/app.ts runs the rebuild once while any
-- view is missing), or by `npm run projections:rebuild`.
UPDATE orders o SET owner = coalesce(b.owner, 'admin'), placed_at = o.created_at, updated_at = o.created_at
FROM operation op JOIN bulk b ON b.uuid = op.bulk_uuid WHERE op.id = o.operation_id;
UPDATE orders SET owner = 'admin', placed_at = created_at, updated_at = created_at WHERE owner IS NULL;

ALTER TABLE orders ALTER COLUMN owner SET NOT NULL;
ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL;
ALTER TABLE orders ALTER COLUMN updated_at SET NOT NULL;

-- orders(first, after, status): an owner's orders, newest first (keyset on placed_at, id).
CREATE INDEX orders_owner_placed_idx ON orders (owner, placed_at DESC, id DESC);
CREATE INDEX orders_owner_status_placed_idx ON orders (owner, status, placed_at DESC, id DESC);

-- Stock per SKU: the inventory stream's state and its version, written with every append to that
-- stream under the row's lock (so it is also the snapshot decisions start from: a hot SKU's
-- stream is never folded from its first event).
CREATE TABLE inventory (
  sku        text PRIMARY KEY CHECK (sku <> '' AND length(sku) <= 500),
  available  bigint NOT NULL CHECK (available >= 0),
  reserved   bigint NOT NULL CHECK (reserved >= 0),
  version    integer NOT NULL CHECK (version >= 1),
  updated_at timestamptz NOT NULL
);

-- orderProgress: every gateway LISTENs on order_changed; the payload is the order's id. NOTIFY is
-- delivered at commit, and repeats within one transaction are sent once.
CREATE FUNCTION orders_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('order_changed', n.id::text) FROM new_rows n;
  RETURN NULL;
END
$$;
CREATE TRIGGER orders_changed_on_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_notify_changed();
CREATE TRIGGER orders_changed_on_update AFTER UPDATE ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_notify_changed();
