-- Orders created by the order placement consumer. operation_id is unique so that a job
-- delivered twice cannot create a second order; it survives the deletion of its bulk.

CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
  id               uuid PRIMARY KEY,
  order_number     text NOT NULL UNIQUE,
  operation_id     uuid UNIQUE REFERENCES operation (id) ON DELETE SET NULL,
  customer_email   text NOT NULL,
  currency         char(3) NOT NULL,
  items            jsonb NOT NULL,
  shipping_address jsonb NOT NULL,
  total            numeric(20, 4) NOT NULL,
  status           text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
