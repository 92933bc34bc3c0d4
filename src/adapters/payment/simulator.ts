import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import type { PaymentSimulatorConfig } from '../options.ts'
import { run, transaction, type Db } from '../../platform/db/pool.ts'
import { isTransient } from '../../platform/jobs/errors.ts'
import type { Logger } from '../../platform/log.ts'
import { waitUnlessAbandoned } from '../abandon.ts'
import { TransientOutsideError, type CaptureResult, type PaymentProvider } from '../ports.ts'
import {
  countCapturedCharges, decideCharge, insertRefund, lockPayment, PAYMENT_OUTCOME, recordChargeAttempt,
  selectCharges, selectRefund, selectRefundLeft, selectRefundsOfPayment, type ChargeRow, type RefundRow
} from './paymentSql.ts'

/**
 * Test tokens, as a real provider's test mode has them (Stripe's): each behaves the same every time.
 *
 * Any other token is taken as an ordinary card: captured, except that PAYMENT_FAILURE_RATE of the
 * first decisions fail transiently and PAYMENT_DECLINE_RATE of them are declined (one random draw
 * per undecided call). The rates apply to such tokens only, so that `tok_visa`, the default, stays
 * a card that always works, and load tests pick their own mix with tokens of their own.
 */
export const TEST_TOKENS = Object.freeze({
  /** Always captured. */
  VISA: 'tok_visa',
  /** Always declined, with DECLINE_REASON.CARD_DECLINED. */
  DECLINED: 'tok_chargeDeclined',
  /** Fails transiently on the first UNAVAILABLE_ATTEMPTS calls with its idempotency key, then captured. */
  UNAVAILABLE: 'tok_unavailable'
} as const)

/** Calls with one key that `tok_unavailable` fails before it captures (counted in the charge's row). */
export const UNAVAILABLE_ATTEMPTS = 2

export const DECLINE_REASON = Object.freeze({
  CARD_DECLINED: 'card_declined: the card was declined',
  SIMULATED: 'card_declined: the card was declined (PAYMENT_DECLINE_RATE)'
} as const)

export interface PaymentSimulatorDeps {
  readonly pool: pg.Pool
  readonly log: Logger
  /** Numbers in [0, 1) for PAYMENT_DECLINE_RATE and PAYMENT_FAILURE_RATE. */
  readonly random: () => number
}

type Decision = CaptureResult | 'unavailable'

/**
 * A payment provider with its own storage (migrations/0011): every call is one short transaction
 * of its own, committed whatever the caller does next, as a remote provider's would be. A key seen
 * before answers its stored outcome: a captured key the same paymentId, a declined key the same
 * reason, and never a second charge. A repeat asking for another token, amount or currency is
 * refused with a plain Error, as providers refuse reusing a key for another request.
 */
export function createPaymentSimulator (config: PaymentSimulatorConfig, deps: PaymentSimulatorDeps): PaymentProvider {
  const log = deps.log.child({ system: 'payment' })

  function decide (row: ChargeRow): Decision {
    switch (row.token) {
      case TEST_TOKENS.VISA: return captured()
      case TEST_TOKENS.DECLINED: return { outcome: 'declined', reason: DECLINE_REASON.CARD_DECLINED }
      case TEST_TOKENS.UNAVAILABLE: return row.attempts <= UNAVAILABLE_ATTEMPTS ? 'unavailable' : captured()
      default: {
        const draw = deps.random()
        if (draw < config.failureRate) return 'unavailable'
        if (draw < config.failureRate + config.declineRate) return { outcome: 'declined', reason: DECLINE_REASON.SIMULATED }
        return captured()
      }
    }
  }

  return {
    async capture (call) {
      // The provider's latency comes before it decides: an attempt abandoned meanwhile charges nothing.
      await waitUnlessAbandoned('payment', config.latencyMs, call.signal)
      const decision = await provider(async () => await transaction(deps.pool, async (tx): Promise<Decision> => {
        const [row] = await run<ChargeRow & { same_request: boolean }>(tx, recordChargeAttempt({ ...call }))
        if (!row!.same_request) {
          throw new Error(`payment: idempotency key "${call.idempotencyKey}" was first used for another charge (token, amount or currency differ)`)
        }
        if (row!.outcome === PAYMENT_OUTCOME.CAPTURED) return { outcome: 'captured', paymentId: row!.payment_id! }
        if (row!.outcome === PAYMENT_OUTCOME.DECLINED) return { outcome: 'declined', reason: row!.reason! }
        const decision = decide(row!)
        // An unavailable provider still saw the call: the attempt it counted commits.
        if (decision === 'unavailable') return decision
        await run(tx, decision.outcome === 'captured'
          ? decideCharge(call.idempotencyKey, PAYMENT_OUTCOME.CAPTURED, decision.paymentId, null)
          : decideCharge(call.idempotencyKey, PAYMENT_OUTCOME.DECLINED, null, decision.reason))
        log.info(`payment ${decision.outcome}`, { idempotencyKey: call.idempotencyKey, orderNumber: call.orderNumber, attempts: row!.attempts })
        return decision
      }))
      if (decision === 'unavailable') throw new TransientOutsideError('payment', `the provider is unavailable (simulated, key ${call.idempotencyKey})`)
      return decision
    },

    async findCapture (call) {
      await waitUnlessAbandoned('payment', config.latencyMs, call.signal)
      const row = await provider(async () => await chargeFor(deps.pool, call.idempotencyKey))
      return row?.outcome === PAYMENT_OUTCOME.CAPTURED ? { paymentId: row.payment_id! } : null
    },

    async refund (call) {
      await waitUnlessAbandoned('payment', config.latencyMs, call.signal)
      return await provider(async () => await transaction(deps.pool, async (tx) => {
        const [earlier] = await run<RefundRow>(tx, selectRefund(call.idempotencyKey))
        if (earlier) return answerRefund(earlier, call.paymentId, call.idempotencyKey)
        const [charge] = await run<ChargeRow>(tx, lockPayment(call.paymentId))
        if (!charge || charge.outcome !== PAYMENT_OUTCOME.CAPTURED) throw new Error(`payment: no captured payment ${call.paymentId} to refund`)
        if (charge.currency !== call.currency) throw new Error(`payment: refund in ${call.currency} of payment ${call.paymentId} captured in ${charge.currency}`)
        const [left] = await run<{ covers: boolean, left: string }>(tx, selectRefundLeft(call.paymentId, call.amount))
        if (!left!.covers) throw new Error(`payment: refund of ${call.amount} exceeds the ${left!.left} left of payment ${call.paymentId}`)
        const [inserted] = await run<RefundRow>(tx, insertRefund({
          idempotency_key: call.idempotencyKey,
          refund_id: `re_${randomBytes(12).toString('hex')}`,
          payment_id: call.paymentId,
          amount: call.amount,
          currency: call.currency
        }))
        if (inserted) {
          log.info('payment refunded', { idempotencyKey: call.idempotencyKey, paymentId: call.paymentId, refundId: inserted.refund_id })
          return { refundId: inserted.refund_id }
        }
        // The same key committed by a concurrent call while this one waited for the payment's lock.
        const [raced] = await run<RefundRow>(tx, selectRefund(call.idempotencyKey))
        return answerRefund(raced!, call.paymentId, call.idempotencyKey)
      }))
    }
  }
}

function captured (): CaptureResult {
  return { outcome: 'captured', paymentId: `pay_${randomBytes(12).toString('hex')}` }
}

function answerRefund (row: RefundRow, paymentId: string, idempotencyKey: string): { refundId: string } {
  if (row.payment_id !== paymentId) throw new Error(`payment: idempotency key "${idempotencyKey}" was first used to refund another payment`)
  return { refundId: row.refund_id }
}

/** The provider's own storage failing the way a retry can cure (lost connection, deadlock) is the provider being unavailable. */
async function provider<T> (work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (isTransient(error)) throw new TransientOutsideError('payment', 'the provider is unavailable (its storage failed transiently)', { cause: error })
    throw error
  }
}

/** The charge recorded for a key, if any (tests, and whoever inspects the simulator). */
export async function chargeFor (db: Db, idempotencyKey: string): Promise<ChargeRow | undefined> {
  const [row] = await run<ChargeRow>(db, selectCharges(idempotencyKey))
  return row
}

export async function refundsOf (db: Db, paymentId: string): Promise<RefundRow[]> {
  return await run<RefundRow>(db, selectRefundsOfPayment(paymentId))
}

/** How many charges the simulator has captured, all keys together. */
export async function countCharges (db: Db): Promise<number> {
  const [row] = await run<{ n: number }>(db, countCapturedCharges())
  return row!.n
}
