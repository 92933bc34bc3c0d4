/**
 * The orders read model (CQRS, issue 4): what a client reads about one order, folded from its
 * stream by `evolveOrderView`. Pure: no I/O. The same fold runs when a step commits (the view is
 * written in the step's transaction), when `npm run projections:rebuild` replays the log, and in
 * the `orderProgress` subscription (one view per event), so the three cannot disagree.
 *
 * Times come from the events' own data (each event carries the time it was decided), never from
 * the store's recorded_at, so that a replay yields the very same rows.
 */
import { CANCEL_REASON, type OrderEvent, type OrderLine, type ShippingAddress } from './domain/events.ts'
import { COMPENSATION, ORDER_STEPS, type Compensation, type OrderStep } from './domain/order.ts'
import { isZeroAmount } from './domain/placeOrder.ts'

export const ORDER_VIEW_STATUS = Object.freeze({
  /** Placed; its steps are under way. */
  PLACED: 'PLACED',
  /** Every step done. Final. */
  COMPLETED: 'COMPLETED',
  /**
   * Canceled (on request, the payment was declined, or a step gave up), and not final yet: a
   * compensation is pending or failed, or the answer of a capture under way is awaited.
   */
  CANCELING: 'CANCELING',
  /** Canceled, every compensation done and no capture awaited. Final. */
  CANCELED: 'CANCELED',
  /** The placement failed: stock could not be reserved. Final (unless retryBulk places it again). */
  FAILED: 'FAILED'
} as const)
export type OrderViewStatus = (typeof ORDER_VIEW_STATUS)[keyof typeof ORDER_VIEW_STATUS]

export const STEP_STATUS = Object.freeze({
  /** Not run yet (it may be waiting for the steps before it). */
  PENDING: 'PENDING',
  /** An attempt failed; it will be tried again, with backoff. */
  RETRYING: 'RETRYING',
  /** Done. */
  DONE: 'DONE',
  /** Failed for good: declined, refused, or its retries used up. */
  FAILED: 'FAILED',
  /** Never ran: the order was canceled or its placement failed first. */
  SKIPPED: 'SKIPPED'
} as const)
export type StepStatus = (typeof STEP_STATUS)[keyof typeof STEP_STATUS]

export interface StepView {
  /** A step of the chain (ORDER_STEP) or a compensation of a canceled order (COMPENSATION). */
  readonly name: OrderStep | Compensation
  readonly status: StepStatus
  /** Attempts that ended, successful or not. */
  readonly attempts: number
  readonly lastError: string | null
  readonly completedAt: string | null
  /** Why an imported order did not run it (StepSkipped), when it did not. */
  readonly skipReason?: string
}

export interface OrderView {
  readonly id: string
  readonly number: string
  readonly owner: string
  /** The placement operation (OrderPlaced's causation). */
  readonly operationId: string | null
  readonly status: OrderViewStatus
  readonly customerEmail: string
  readonly currency: string
  readonly lines: readonly OrderLine[]
  readonly shippingAddress: ShippingAddress
  readonly total: string
  /** Why the placement failed (stock), or why the order was canceled: a code and a readable message. */
  readonly failure: { readonly code: string, readonly message: string } | null
  readonly cancelReason: string | null
  readonly invoiceNumber: string | null
  readonly carrier: string | null
  readonly trackingNumber: string | null
  readonly trackingStatus: string | null
  /** The chain's steps in chain order, then the compensations a canceled order needs. */
  readonly steps: readonly StepView[]
  readonly placedAt: string
  readonly completedAt: string | null
  readonly canceledAt: string | null
  /** Canceled mid-payment, and the capture step has not answered yet (CaptureOutcomeAwaited): not final. */
  readonly awaitingCapture?: boolean
  /** Recorded by an import (OrderImported) with its given number and placedAt, not placed here. */
  readonly imported?: boolean
  /** The time of the latest event. */
  readonly updatedAt: string
  /** The stream version the view is at: the number of events folded. */
  readonly version: number
}

/** Where an event sits in its stream, and what caused it: what the fold needs beyond the event. */
export interface EventPlace {
  readonly streamVersion: number
  readonly causationId?: string | undefined
}

/** The time each event records, from its own data. */
function eventTime (event: OrderEvent): string {
  switch (event.type) {
    case 'OrderPlaced': return event.data.placedAt
    case 'OrderImported': return event.data.importedAt
    case 'StepSkipped': return event.data.skippedAt
    case 'StockReserved': return event.data.reservedAt
    case 'StockReservationFailed': return event.data.failedAt
    case 'PaymentCaptured': return event.data.capturedAt
    case 'PaymentFailed': return event.data.failedAt
    case 'InvoiceCreated': return event.data.createdAt
    case 'InvoiceEmailed': return event.data.emailedAt
    case 'ShipmentCreated': return event.data.createdAt
    case 'ShippingLabelPrinted': return event.data.printedAt
    case 'TrackingUpdated': return event.data.updatedAt
    case 'ShippingEmailSent': return event.data.sentAt
    case 'OrderExportedToErp': return event.data.exportedAt
    case 'OrderCompleted': return event.data.completedAt
    case 'OrderCanceled': return event.data.canceledAt
    case 'StockReleased': return event.data.releasedAt
    case 'PaymentRefunded': return event.data.refundedAt
    case 'CancellationEmailed': return event.data.emailedAt
    case 'StepFailed': return event.data.failedAt
    case 'StepRetried': return event.data.retriedAt
    case 'PlacementRetried': return event.data.retriedAt
    case 'StockShipped': return event.data.shippedAt
    case 'OrderGivenUp': return event.data.givenUpAt
    case 'CaptureOutcomeAwaited': return event.data.awaitedAt
    case 'CaptureRuledOut': return event.data.ruledOutAt
    default: {
      const unknown: never = event
      throw new TypeError(`unknown order event ${(unknown as { type?: unknown }).type}`)
    }
  }
}

const OPEN: ReadonlySet<StepStatus> = new Set([STEP_STATUS.PENDING, STEP_STATUS.RETRYING])

function pendingStep (name: OrderStep | Compensation): StepView {
  return { name, status: STEP_STATUS.PENDING, attempts: 0, lastError: null, completedAt: null }
}

function updateStep (view: OrderView, name: string, change: (step: StepView) => StepView): OrderView {
  return { ...view, steps: view.steps.map(step => step.name === name ? change(step) : step) }
}

function stepDone (view: OrderView, name: OrderStep | Compensation, at: string): OrderView {
  return updateStep(view, name, step => ({ ...step, status: STEP_STATUS.DONE, attempts: step.attempts + 1, completedAt: at }))
}

function addStep (view: OrderView, name: Compensation): OrderView {
  return view.steps.some(step => step.name === name) ? view : { ...view, steps: [...view.steps, pendingStep(name)] }
}

function isDone (view: OrderView, name: OrderStep): boolean {
  return view.steps.some(step => step.name === name && step.status === STEP_STATUS.DONE)
}

/** Steps that can no longer run once the order ended early. */
function skipOpenSteps (view: OrderView): OrderView {
  return { ...view, steps: view.steps.map(step => OPEN.has(step.status) && (ORDER_STEPS as readonly string[]).includes(step.name) ? { ...step, status: STEP_STATUS.SKIPPED } : step) }
}

const COMPENSATIONS: ReadonlySet<string> = new Set(Object.values(COMPENSATION))

/**
 * A canceled order's status: CANCELED once every compensation it needs is DONE and no capture's
 * answer is awaited, CANCELING until then (a compensation pending, retrying or FAILED).
 */
function cancelStatus (view: OrderView): OrderView {
  if (view.status !== ORDER_VIEW_STATUS.CANCELING && view.status !== ORDER_VIEW_STATUS.CANCELED) return view
  const settled = view.awaitingCapture !== true && view.steps.every(step => !COMPENSATIONS.has(step.name) || step.status === STEP_STATUS.DONE)
  const status = settled ? ORDER_VIEW_STATUS.CANCELED : ORDER_VIEW_STATUS.CANCELING
  return status === view.status ? view : { ...view, status }
}

/** The placement decided again (PlacementRetried): open as when first placed, attempts and errors kept. */
function reopenPlacement (view: OrderView): OrderView {
  return {
    ...view,
    status: ORDER_VIEW_STATUS.PLACED,
    failure: null,
    steps: view.steps.map(step => (step.status === STEP_STATUS.FAILED || step.status === STEP_STATUS.SKIPPED) && step.skipReason === undefined ? { ...step, status: STEP_STATUS.PENDING } : step)
  }
}

function shortageMessage (shortages: ReadonlyArray<{ sku: string, requested: number, available: number }>): string {
  return shortages.map(s => `${s.sku}: ${s.requested} requested, ${s.available} available`).join('; ')
}

/** Folds one event into the view; `null` before the stream's first event. */
export function evolveOrderView (view: OrderView | null, event: OrderEvent, place: EventPlace): OrderView | null {
  const at = eventTime(event)
  if (event.type === 'OrderPlaced' || event.type === 'OrderImported') {
    const d = event.data
    return {
      ...(event.type === 'OrderImported' ? { imported: true } : {}),
      id: d.orderId,
      number: d.orderNumber,
      owner: d.owner,
      operationId: place.causationId ?? null,
      status: ORDER_VIEW_STATUS.PLACED,
      customerEmail: d.customerEmail,
      currency: d.currency,
      lines: d.lines,
      shippingAddress: d.shippingAddress,
      total: d.total,
      failure: null,
      cancelReason: null,
      invoiceNumber: null,
      carrier: null,
      trackingNumber: null,
      trackingStatus: null,
      steps: ORDER_STEPS.map(pendingStep),
      placedAt: d.placedAt,
      completedAt: null,
      canceledAt: null,
      updatedAt: at,
      version: place.streamVersion
    }
  }
  if (view === null) return null
  const next = cancelStatus(foldInto(view, event, at))
  return { ...next, updatedAt: at, version: place.streamVersion }
}

function foldInto (view: OrderView, event: OrderEvent, at: string): OrderView {
  switch (event.type) {
    case 'OrderPlaced':
    case 'OrderImported':
    case 'StockShipped':
      return view
    case 'StepSkipped': return updateStep(view, event.data.step, step => ({ ...step, status: STEP_STATUS.SKIPPED, skipReason: event.data.reason }))
    case 'StockReserved':
      return stepDone(view, 'reserveStock', at)
    case 'StockReservationFailed': {
      const failed = updateStep(view, 'reserveStock', step => ({
        ...step, status: STEP_STATUS.FAILED, attempts: step.attempts + 1, lastError: `${event.data.code}: ${shortageMessage(event.data.shortages)}`
      }))
      return skipOpenSteps({ ...failed, status: ORDER_VIEW_STATUS.FAILED, failure: { code: event.data.code, message: shortageMessage(event.data.shortages) } })
    }
    case 'PaymentCaptured': {
      const captured = { ...stepDone(view, 'capturePayment', at), awaitingCapture: false }
      // Captured after a cancellation (the provider was charging when it came in): money to give back, unless it was none.
      return (view.status === ORDER_VIEW_STATUS.CANCELING || view.status === ORDER_VIEW_STATUS.CANCELED) && !isZeroAmount(view.total) ? addStep(captured, COMPENSATION.REFUND_PAYMENT) : captured
    }
    case 'PaymentFailed':
      return { ...updateStep(view, 'capturePayment', step => ({ ...step, status: STEP_STATUS.FAILED, attempts: step.attempts + 1, lastError: `payment declined: ${event.data.reason}` })), awaitingCapture: false }
    case 'InvoiceCreated':
      return { ...stepDone(view, 'createInvoice', at), invoiceNumber: event.data.invoiceNumber }
    case 'InvoiceEmailed':
      return stepDone(view, 'emailInvoice', at)
    case 'ShipmentCreated':
      return { ...stepDone(view, 'createShipment', at), carrier: event.data.carrier, trackingNumber: event.data.trackingNumber }
    case 'ShippingLabelPrinted':
      return stepDone(view, 'printShippingLabel', at)
    case 'TrackingUpdated':
      return { ...stepDone(view, 'updateTracking', at), trackingStatus: event.data.status }
    case 'ShippingEmailSent':
      return stepDone(view, 'emailShipping', at)
    case 'OrderExportedToErp':
      return stepDone(view, 'exportToErp', at)
    case 'OrderCompleted':
      return { ...view, status: ORDER_VIEW_STATUS.COMPLETED, completedAt: at }
    case 'OrderCanceled': {
      let canceled: OrderView = skipOpenSteps({
        ...view,
        status: ORDER_VIEW_STATUS.CANCELING,
        canceledAt: at,
        cancelReason: event.data.reason,
        failure: view.failure ?? { code: event.data.reason, message: event.data.reason === 'PAYMENT_DECLINED' ? 'the payment was declined' : 'canceled on request' }
      })
      // The compensations it needs (requiredCompensations in the aggregate, in the same order; an import emails nobody).
      if (isDone(view, 'reserveStock')) canceled = addStep(canceled, COMPENSATION.RELEASE_STOCK)
      if (isDone(view, 'capturePayment') && !isZeroAmount(view.total)) canceled = addStep(canceled, COMPENSATION.REFUND_PAYMENT)
      return view.imported === true ? canceled : addStep(canceled, COMPENSATION.EMAIL_CANCELLATION)
    }
    case 'StockReleased':
      return stepDone(view, COMPENSATION.RELEASE_STOCK, at)
    case 'PaymentRefunded':
      return stepDone(view, COMPENSATION.REFUND_PAYMENT, at)
    case 'CancellationEmailed':
      return stepDone(view, COMPENSATION.EMAIL_CANCELLATION, at)
    case 'StepFailed':
      return updateStep(view, event.data.step, step => ({
        ...step,
        status: event.data.final ? STEP_STATUS.FAILED : STEP_STATUS.RETRYING,
        attempts: step.attempts + 1,
        lastError: event.data.error
      }))
    case 'StepRetried':
      // Tried again after it was given up on: open again, its attempts and last error kept.
      return updateStep(view, event.data.step, step => ({ ...step, status: STEP_STATUS.PENDING }))
    case 'PlacementRetried':
      return reopenPlacement(view)
    case 'OrderGivenUp': {
      const step = view.steps.find(s => s.name === event.data.step)
      return { ...view, failure: { code: CANCEL_REASON.STEP_GAVE_UP, message: `${event.data.step} gave up${step?.lastError ? ` (${step.lastError})` : ''}` } }
    }
    case 'CaptureOutcomeAwaited':
      return { ...view, awaitingCapture: true }
    case 'CaptureRuledOut':
      return { ...view, awaitingCapture: false }
    default: {
      const unknown: never = event
      throw new TypeError(`unknown order event ${(unknown as { type?: unknown }).type}`)
    }
  }
}

/** Folds a whole stream (in version order); null for a stream with no OrderPlaced. */
export function orderViewOf (events: ReadonlyArray<{ readonly event: OrderEvent, readonly place: EventPlace }>): OrderView | null {
  return events.reduce<OrderView | null>((view, { event, place }) => evolveOrderView(view, event, place), null)
}
