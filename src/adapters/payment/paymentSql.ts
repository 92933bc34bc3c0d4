import type { Query } from '../../platform/db/pool.ts'

/**
 * A charge's outcome, mirrored by the CHECK of payment_simulator_charge (migrations/0011). PENDING
 * may become CAPTURED or DECLINED, once; those never change.
 */
export const PAYMENT_OUTCOME = Object.freeze({
  PENDING: 'PENDING',
  CAPTURED: 'CAPTURED',
  DECLINED: 'DECLINED'
} as const)
export type PaymentOutcome = (typeof PAYMENT_OUTCOME)[keyof typeof PAYMENT_OUTCOME]

export interface ChargeRow {
  idempotency_key: string
  payment_id: string | null
  token: string
  /** numeric(19,4) as PostgreSQL prints it, e.g. `12.5000`. */
  amount: string
  currency: string
  order_number: string
  outcome: PaymentOutcome
  reason: string | null
  attempts: number
  created_at: Date
  decided_at: Date | null
}

export interface RefundRow {
  idempotency_key: string
  refund_id: string
  payment_id: string
  amount: string
  currency: string
  created_at: Date
}

export interface ChargeRequest {
  readonly idempotencyKey: string
  readonly token: string
  readonly amount: string
  readonly currency: string
  readonly orderNumber: string
}

/**
 * Records a call to capture: the first with its key inserts the charge, PENDING; a repeat counts
 * one more attempt. Either way the row comes back locked until the transaction ends (a concurrent
 * call with the same key waits here), with `same_request` false when the repeat asks for another
 * token, amount or currency than the first did.
 */
export function recordChargeAttempt (request: ChargeRequest): Query {
  return {
    text: `INSERT INTO payment_simulator_charge AS c (idempotency_key, token, amount, currency, order_number)
      VALUES ($1, $2, $3::numeric, $4, $5)
      ON CONFLICT (idempotency_key) DO UPDATE SET attempts = c.attempts + 1
      RETURNING c.*, (c.token = $2 AND c.amount = $3::numeric AND c.currency = $4) AS same_request`,
    values: [request.idempotencyKey, request.token, request.amount, request.currency, request.orderNumber]
  }
}

/** Decides a PENDING charge: CAPTURED with a payment id, or DECLINED with a reason. */
export function decideCharge (idempotencyKey: string, outcome: typeof PAYMENT_OUTCOME.CAPTURED | typeof PAYMENT_OUTCOME.DECLINED,
  paymentId: string | null, reason: string | null): Query {
  return {
    text: `UPDATE payment_simulator_charge SET outcome = $2, payment_id = $3, reason = $4, decided_at = now()
      WHERE idempotency_key = $1 AND outcome = '${PAYMENT_OUTCOME.PENDING}'
      RETURNING *`,
    values: [idempotencyKey, outcome, paymentId, reason]
  }
}

/**
 * Locks a payment's charge, so that refunds of one payment take turns. Run before
 * `selectRefundLeft`: a statement that waited for this lock sees the rows committed meanwhile only
 * in its next statement (READ COMMITTED takes one snapshot per statement).
 */
export function lockPayment (paymentId: string): Query {
  return { text: 'SELECT * FROM payment_simulator_charge WHERE payment_id = $1 FOR UPDATE', values: [paymentId] }
}

/** Whether what is left of a payment (captured minus refunded) covers `amount`. */
export function selectRefundLeft (paymentId: string, amount: string): Query {
  return {
    text: `SELECT c.amount - coalesce(sum(r.amount), 0) >= $2::numeric AS covers, (c.amount - coalesce(sum(r.amount), 0))::text AS left
      FROM payment_simulator_charge c
      LEFT JOIN payment_simulator_refund r ON r.payment_id = c.payment_id
      WHERE c.payment_id = $1
      GROUP BY c.idempotency_key`,
    values: [paymentId, amount]
  }
}

export function selectRefund (idempotencyKey: string): Query {
  return { text: 'SELECT * FROM payment_simulator_refund WHERE idempotency_key = $1', values: [idempotencyKey] }
}

/** A refund of up to what is left of its payment; nothing when its key was used already. */
export function insertRefund (refund: Omit<RefundRow, 'created_at'>): Query {
  return {
    text: `INSERT INTO payment_simulator_refund (idempotency_key, refund_id, payment_id, amount, currency)
      VALUES ($1, $2, $3, $4::numeric, $5)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING *`,
    values: [refund.idempotency_key, refund.refund_id, refund.payment_id, refund.amount, refund.currency]
  }
}

export function selectCharges (idempotencyKey: string): Query {
  return { text: 'SELECT * FROM payment_simulator_charge WHERE idempotency_key = $1', values: [idempotencyKey] }
}

export function selectRefundsOfPayment (paymentId: string): Query {
  return { text: 'SELECT * FROM payment_simulator_refund WHERE payment_id = $1 ORDER BY created_at', values: [paymentId] }
}

export function countCapturedCharges (): Query {
  return { text: `SELECT count(*) AS n FROM payment_simulator_charge WHERE outcome = '${PAYMENT_OUTCOME.CAPTURED}'`, values: [] }
}
