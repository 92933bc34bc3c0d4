/**
 * The order aggregate (issue 4): its state and `evolve(state, event) → state`, which folds the
 * stream; `decide(command, state) → events` (decide.ts) enforces the rules of the post-order chain
 * (emmett's shopping cart, house style point 8). Pure: no I/O, no clock, no id generator; they come
 * in with the commands.
 *
 * Every step records its outcome once: a command for a step already done decides no event, so a
 * step retried after its outcome was recorded (or recorded by a concurrent run) records nothing
 * twice. A command the order's state does not allow throws OrderError with a code.
 */
import type { StockFailureCode, StockShortage } from '../../inventory/domain/stock.ts'
import type { CancelReason, ImportOptions, OrderEvent, OrderImported, OrderLine, OrderPlaced, ShippingAddress } from './events.ts'
import { isZeroAmount } from './placeOrder.ts'

/** An order's stream in the event store. */
export function orderStreamId (orderId: string): string {
  return `order-${orderId}`
}

export const ORDER_STATUS = Object.freeze({
  /** The stream has no event: there is no order (yet). */
  NOT_PLACED: 'NOT_PLACED',
  /** Placed; its steps are under way. */
  PLACED: 'PLACED',
  /** Every step done. Final. */
  COMPLETED: 'COMPLETED',
  /**
   * Canceled (declined payment, on request, or a step gave up); compensations follow. No forward
   * step runs again (isSettled says when nothing more will happen to it).
   */
  CANCELED: 'CANCELED',
  /**
   * The placement failed: stock could not be reserved (StockReservationFailed). Final, unless the
   * placement's operation is retried (retryBulk): PlacementRetried makes it PLACED again.
   */
  FAILED: 'FAILED'
} as const)
export type OrderStatus = (typeof ORDER_STATUS)[keyof typeof ORDER_STATUS]

/** The steps of the chain, named for what they do (the read model's `steps { name }`), in chain order. */
export const ORDER_STEP = Object.freeze({
  RESERVE_STOCK: 'reserveStock',
  CAPTURE_PAYMENT: 'capturePayment',
  CREATE_INVOICE: 'createInvoice',
  EMAIL_INVOICE: 'emailInvoice',
  CREATE_SHIPMENT: 'createShipment',
  PRINT_SHIPPING_LABEL: 'printShippingLabel',
  UPDATE_TRACKING: 'updateTracking',
  EMAIL_SHIPPING: 'emailShipping',
  EXPORT_TO_ERP: 'exportToErp'
} as const)
export type OrderStep = (typeof ORDER_STEP)[keyof typeof ORDER_STEP]
export const ORDER_STEPS: readonly OrderStep[] = Object.freeze(Object.values(ORDER_STEP))

/**
 * What each step waits for (issue 4): stock before payment; invoice after payment; shipment after
 * stock and payment; label after shipment; tracking after label; shipping email after tracking;
 * ERP export after payment. Completion waits for every step.
 */
export const STEP_PREREQUISITES: Readonly<Record<OrderStep, readonly OrderStep[]>> = Object.freeze({
  reserveStock: [],
  capturePayment: ['reserveStock'],
  createInvoice: ['capturePayment'],
  emailInvoice: ['createInvoice'],
  createShipment: ['reserveStock', 'capturePayment'],
  printShippingLabel: ['createShipment'],
  updateTracking: ['printShippingLabel'],
  emailShipping: ['updateTracking'],
  exportToErp: ['capturePayment']
})

/** What a canceled order undoes or tells (the compensating saga). */
export const COMPENSATION = Object.freeze({
  /** Needed when stock was reserved. */
  RELEASE_STOCK: 'releaseStock',
  /** Needed when the payment was captured. */
  REFUND_PAYMENT: 'refundPayment',
  /** Always needed: the customer is told. */
  EMAIL_CANCELLATION: 'emailCancellation'
} as const)
export type Compensation = (typeof COMPENSATION)[keyof typeof COMPENSATION]

/** A step or a compensation: what a chain job does. */
export type OrderWork = OrderStep | Compensation

export interface NoOrder { readonly status: typeof ORDER_STATUS.NOT_PLACED }

export interface Order {
  readonly status: Exclude<OrderStatus, typeof ORDER_STATUS.NOT_PLACED>
  readonly orderId: string
  readonly orderNumber: string
  readonly customerEmail: string
  readonly currency: string
  readonly lines: readonly OrderLine[]
  readonly shippingAddress: ShippingAddress
  readonly paymentToken: string
  readonly owner: string
  readonly total: string
  readonly placedAt: string
  /** Steps done, each with the time its outcome was recorded. */
  readonly done: Readonly<Partial<Record<OrderStep, string>>>
  /** Compensations done, each with its time. */
  readonly compensated: Readonly<Partial<Record<Compensation, string>>>
  readonly stockFailure: { readonly code: StockFailureCode, readonly shortages: readonly StockShortage[] } | null
  readonly paymentId: string | null
  /** The provider's reason, once the payment was declined. */
  readonly paymentDeclined: string | null
  readonly invoiceNumber: string | null
  readonly shipmentId: string | null
  readonly carrier: string | null
  readonly trackingNumber: string | null
  readonly cancelReason: CancelReason | null
  /** When the order became COMPLETED, CANCELED or FAILED. */
  readonly closedAt: string | null
  /** Whether its reserved stock shipped (StockShipped): it can no longer be canceled. */
  readonly stockShipped: boolean
  /** Work given up (its latest StepFailed final, no StepRetried since), with the time it gave up: no job carries it. */
  readonly givenUp: Readonly<Partial<Record<OrderWork, string>>>
  /** The step whose giving up canceled the order (OrderGivenUp). */
  readonly gaveUpStep: OrderStep | null
  /** Canceled mid-payment, and the capture step has not answered yet (CaptureOutcomeAwaited). */
  readonly captureAwaited: boolean
  /** How it was imported (OrderImported), or null for an order placed here. */
  readonly imported: ImportOptions | null
  /** Steps an import did not run (StepSkipped), with the reason: they count as done, and undo nothing. */
  readonly skipped: Readonly<Partial<Record<OrderStep, string>>>
}

export type OrderState = NoOrder | Order

export function initialState (): OrderState {
  return { status: ORDER_STATUS.NOT_PLACED }
}

/** Steps not done yet, in chain order. */
export function pendingSteps (order: Order): OrderStep[] {
  return ORDER_STEPS.filter(step => order.done[step] === undefined)
}

/** Steps that may run now: the order is PLACED, they are not done and their prerequisites are. */
export function readySteps (order: Order): OrderStep[] {
  if (order.status !== ORDER_STATUS.PLACED) return []
  return pendingSteps(order).filter(step => missingPrerequisites(order, step).length === 0)
}

/**
 * The compensations a canceled order needs, done or not (none for an order that is not canceled).
 * A capture of a zero total took nothing, so it needs no refund (the payment side refuses one of 0).
 */
export function requiredCompensations (order: Order): Compensation[] {
  if (order.status !== ORDER_STATUS.CANCELED) return []
  // A skipped step took nothing (no stock held, no money taken), and an imported order emails nobody.
  const ran = (step: OrderStep): boolean => order.done[step] !== undefined && order.skipped[step] === undefined
  return [
    // Shipped stock is not reserved any more (a shipped order is not canceled; this keeps it true).
    ...(ran(ORDER_STEP.RESERVE_STOCK) && !order.stockShipped ? [COMPENSATION.RELEASE_STOCK] : []),
    ...(ran(ORDER_STEP.CAPTURE_PAYMENT) && !isZeroAmount(order.total) ? [COMPENSATION.REFUND_PAYMENT] : []),
    ...(order.imported === null ? [COMPENSATION.EMAIL_CANCELLATION] : [])
  ]
}

export function pendingCompensations (order: Order): Compensation[] {
  return requiredCompensations(order).filter(c => order.compensated[c] === undefined)
}

/**
 * The work the order still needs, given up or not: a PLACED order's ready steps; a CANCELED one's
 * pending compensations, and its capture step while the capture's outcome is awaited.
 */
export function openWork (order: Order): OrderWork[] {
  if (order.status === ORDER_STATUS.PLACED) return readySteps(order)
  if (order.status !== ORDER_STATUS.CANCELED) return []
  return [...(order.captureAwaited ? [ORDER_STEP.CAPTURE_PAYMENT] : []), ...pendingCompensations(order)]
}

/**
 * Whether nothing more will happen to the order by itself: COMPLETED, FAILED (until a retryBulk),
 * or CANCELED with every compensation done and no capture awaited (issue 13, item 10).
 */
export function isSettled (order: Order): boolean {
  if (order.status === ORDER_STATUS.PLACED) return false
  if (order.status !== ORDER_STATUS.CANCELED) return true
  return !order.captureAwaited && pendingCompensations(order).length === 0
}

const COMPENSATIONS: ReadonlySet<string> = new Set(Object.values(COMPENSATION))

export function isCompensation (work: OrderWork): work is Compensation {
  return COMPENSATIONS.has(work)
}

const FORWARD: ReadonlySet<string> = new Set(ORDER_STEPS)

/** Work given up without the forward steps: a canceled order runs none of them again. */
function compensationsGivenUp (givenUp: Order['givenUp']): Order['givenUp'] {
  return Object.fromEntries(Object.entries(givenUp).filter(([work]) => !FORWARD.has(work)))
}

function without (givenUp: Order['givenUp'], work: string): Order['givenUp'] {
  if (!(work in givenUp)) return givenUp
  const { [work as OrderWork]: _, ...rest } = givenUp
  return rest
}

/** The prerequisites of `step` not done yet. */
export function missingPrerequisites (order: Order, step: OrderStep): OrderStep[] {
  return STEP_PREREQUISITES[step].filter(required => order.done[required] === undefined)
}

/** The order OrderPlaced (or OrderImported) starts: nothing done yet. */
function placedOrder (data: OrderPlaced['data'] | OrderImported['data']): Order {
  const { orderId, orderNumber, customerEmail, currency, lines, shippingAddress, paymentToken, owner, total, placedAt } = data
  return {
    orderId,
    orderNumber,
    customerEmail,
    currency,
    lines,
    shippingAddress,
    paymentToken,
    owner,
    total,
    status: ORDER_STATUS.PLACED,
    placedAt,
    done: {},
    compensated: {},
    stockFailure: null,
    paymentId: null,
    paymentDeclined: null,
    invoiceNumber: null,
    shipmentId: null,
    carrier: null,
    trackingNumber: null,
    cancelReason: null,
    closedAt: null,
    stockShipped: false,
    givenUp: {},
    gaveUpStep: null,
    captureAwaited: false,
    imported: 'importedAt' in data ? { stock: data.stock, exportToErp: data.exportToErp } : null,
    skipped: {}
  }
}

export function evolve (state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderPlaced' || event.type === 'OrderImported') return placedOrder(event.data)
  // Every other event follows OrderPlaced in a stream written by decide.
  if (state.status === ORDER_STATUS.NOT_PLACED) return state
  const order = state
  const done = (step: OrderStep, at: string): Order => ({ ...order, done: { ...order.done, [step]: at }, givenUp: without(order.givenUp, step) })
  const compensated = (which: Compensation, at: string): Order => ({ ...order, compensated: { ...order.compensated, [which]: at }, givenUp: without(order.givenUp, which) })

  switch (event.type) {
    case 'StockReserved':
      return done(ORDER_STEP.RESERVE_STOCK, event.data.reservedAt)
    case 'StockReservationFailed':
      return { ...order, status: ORDER_STATUS.FAILED, stockFailure: { code: event.data.code, shortages: event.data.shortages }, closedAt: event.data.failedAt }
    case 'PaymentCaptured':
      return { ...done(ORDER_STEP.CAPTURE_PAYMENT, event.data.capturedAt), paymentId: event.data.paymentId, captureAwaited: false }
    case 'PaymentFailed':
      return { ...order, paymentDeclined: event.data.reason, captureAwaited: false, givenUp: without(order.givenUp, ORDER_STEP.CAPTURE_PAYMENT) }
    case 'InvoiceCreated':
      return { ...done(ORDER_STEP.CREATE_INVOICE, event.data.createdAt), invoiceNumber: event.data.invoiceNumber }
    case 'InvoiceEmailed':
      return done(ORDER_STEP.EMAIL_INVOICE, event.data.emailedAt)
    case 'ShipmentCreated':
      return { ...done(ORDER_STEP.CREATE_SHIPMENT, event.data.createdAt), shipmentId: event.data.shipmentId, carrier: event.data.carrier, trackingNumber: event.data.trackingNumber }
    case 'ShippingLabelPrinted':
      return done(ORDER_STEP.PRINT_SHIPPING_LABEL, event.data.printedAt)
    case 'TrackingUpdated':
      return done(ORDER_STEP.UPDATE_TRACKING, event.data.updatedAt)
    case 'ShippingEmailSent':
      return done(ORDER_STEP.EMAIL_SHIPPING, event.data.sentAt)
    case 'OrderExportedToErp':
      return done(ORDER_STEP.EXPORT_TO_ERP, event.data.exportedAt)
    case 'OrderCompleted':
      return { ...order, status: ORDER_STATUS.COMPLETED, closedAt: event.data.completedAt }
    case 'OrderCanceled':
      return { ...order, status: ORDER_STATUS.CANCELED, cancelReason: event.data.reason, closedAt: event.data.canceledAt, givenUp: compensationsGivenUp(order.givenUp) }
    case 'StockReleased':
      return compensated(COMPENSATION.RELEASE_STOCK, event.data.releasedAt)
    case 'PaymentRefunded':
      return compensated(COMPENSATION.REFUND_PAYMENT, event.data.refundedAt)
    case 'CancellationEmailed':
      return compensated(COMPENSATION.EMAIL_CANCELLATION, event.data.emailedAt)
    case 'StepFailed':
      return event.data.final
        ? { ...order, givenUp: { ...order.givenUp, [event.data.step]: event.data.failedAt } }
        : { ...order, givenUp: without(order.givenUp, event.data.step) }
    case 'StepRetried':
      return { ...order, givenUp: without(order.givenUp, event.data.step) }
    case 'PlacementRetried':
      return { ...order, status: ORDER_STATUS.PLACED, stockFailure: null, closedAt: null }
    case 'StockShipped':
      return { ...order, stockShipped: true }
    case 'OrderGivenUp':
      return { ...order, gaveUpStep: event.data.step as OrderStep }
    case 'CaptureOutcomeAwaited':
      return { ...order, captureAwaited: true }
    case 'CaptureRuledOut':
      return { ...order, captureAwaited: false, givenUp: without(order.givenUp, ORDER_STEP.CAPTURE_PAYMENT) }
    case 'StepSkipped': {
      const step = event.data.step as OrderStep
      return { ...done(step, event.data.skippedAt), skipped: { ...order.skipped, [step]: event.data.reason } }
    }
    default: {
      const unknown: never = event
      throw new TypeError(`unknown order event ${(unknown as { type?: unknown }).type}`)
    }
  }
}
