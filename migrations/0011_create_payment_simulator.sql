-- The payment simulator's own storage (issue 4, "Outside systems behind ports"). It stands in for a
-- remote payment provider, so it plays one: these tables belong to the "provider", are written only
-- by src/adapters/payment/ in short transactions of their own (never the caller's, as a remote
-- provider commits on its side whatever the caller then does), and nothing else reads them but
-- tests. A real provider replaces them; no order table refers to them.
--
-- Idempotency as providers offer it (Stripe's Idempotency-Key): one row per key; a repeated key
-- answers the stored outcome instead of charging again.

CREATE TABLE payment_simulator_charge (
  idempotency_key text PRIMARY KEY CHECK (idempotency_key <> '' AND length(idempotency_key) <= 500),
  -- Given when captured; what refunds name.
  payment_id      text UNIQUE,
  token           text NOT NULL,
  amount          numeric(19, 4) NOT NULL CHECK (amount >= 0),
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  order_number    text NOT NULL,
  -- PAYMENT_OUTCOME in src/adapters/payment/queries.ts: PENDING until the provider decides (a
  -- transient failure leaves it PENDING), then CAPTURED or DECLINED for good.
  outcome         text NOT NULL DEFAULT 'PENDING' CHECK (outcome IN ('PENDING', 'CAPTURED', 'DECLINED')),
  reason          text,
  -- Calls received with this key, the first included (tok_unavailable fails the first two).
  attempts        integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz,
  CHECK ((outcome = 'CAPTURED') = (payment_id IS NOT NULL)),
  CHECK ((outcome = 'DECLINED') = (reason IS NOT NULL))
);

CREATE TABLE payment_simulator_refund (
  idempotency_key text PRIMARY KEY CHECK (idempotency_key <> '' AND length(idempotency_key) <= 500),
  refund_id       text NOT NULL UNIQUE,
  payment_id      text NOT NULL REFERENCES payment_simulator_charge (payment_id),
  amount          numeric(19, 4) NOT NULL CHECK (amount > 0),
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- The refunds of one payment, summed to refuse refunding more than was captured.
CREATE INDEX payment_simulator_refund_payment_idx ON payment_simulator_refund (payment_id);
