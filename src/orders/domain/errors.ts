/**
 * Why the order aggregate refuses a command. A refusal records nothing; a handler maps the code
 * to a permanent failure of its step (retrying cannot change the order's state for it), except
 * where noted. Pure: no I/O.
 */
export const ORDER_ERROR_CODE = Object.freeze({
  /** PlaceOrder with an input that fails validatePlaceOrder; the message names the fields. */
  INVALID_ORDER: 'INVALID_ORDER',
  /** PlaceOrder on a stream that already holds another order. */
  ORDER_ALREADY_EXISTS: 'ORDER_ALREADY_EXISTS',
  /** Any other command on a stream with no order. */
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  /** A step whose prerequisites are not all done (`missing` names them). */
  STEP_OUT_OF_ORDER: 'STEP_OUT_OF_ORDER',
  /** An outcome that contradicts the one already recorded for its step (a decline after a capture). */
  STEP_ALREADY_SETTLED: 'STEP_ALREADY_SETTLED',
  /** CompleteOrder while steps are pending (`missing` names them). */
  STEPS_PENDING: 'STEPS_PENDING',
  /** A forward step or completion on a canceled order. */
  ORDER_CANCELED: 'ORDER_CANCELED',
  /** Cancellation of a completed order. */
  ORDER_COMPLETED: 'ORDER_COMPLETED',
  /** Cancellation of an order whose stock has shipped (Magento's rule: a shipped order is not canceled). */
  ORDER_SHIPPED: 'ORDER_SHIPPED',
  /** Any command but a repeated shortage on an order whose placement failed for want of stock. */
  ORDER_FAILED: 'ORDER_FAILED',
  /** A compensation on an order that is not canceled. */
  ORDER_NOT_CANCELED: 'ORDER_NOT_CANCELED',
  /** A compensation the canceled order does not need (releasing stock that was never reserved). */
  COMPENSATION_NOT_NEEDED: 'COMPENSATION_NOT_NEEDED',
  /** An import whose number another order took after its acceptance (a concurrent import of that number ran first). */
  DUPLICATE_ORDER_NUMBER: 'DUPLICATE_ORDER_NUMBER'
} as const)
export type OrderErrorCode = (typeof ORDER_ERROR_CODE)[keyof typeof ORDER_ERROR_CODE]

export class OrderError extends Error {
  readonly code: OrderErrorCode
  /** The order the command was about, when the stream holds one. */
  readonly orderId: string | undefined
  /** Steps or compensations the command waited for, for STEP_OUT_OF_ORDER and STEPS_PENDING. */
  readonly missing: readonly string[]

  constructor (code: OrderErrorCode, message: string, details: { orderId?: string | undefined, missing?: readonly string[] } = {}) {
    super(message)
    this.name = 'OrderError'
    this.code = code
    this.orderId = details.orderId
    this.missing = details.missing ?? []
  }
}
