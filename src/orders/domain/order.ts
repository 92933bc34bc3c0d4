/**
 * The order aggregate (issue 4): `decide(command, state) → events` enforces the rules of the
 * post-order chain, `evolve(state, event) → state` folds the stream (emmett's shopping cart, house
 * style point 8). Pure: no I/O, no clock, no id generator; they come in with the commands.
 *
 * Every step records its outcome once: a command for a step already done decides no event, so a
 * step retried after its outcome was recorded (or recorded by a concurrent run) records nothing
 * twice. A command the order's state does not allow throws OrderError with a code.
 */
import type { OrderCommand } from './commands.ts'
import { ORDER_ERROR_CODE, OrderError } from './errors.ts'
import {
  CANCEL_REASON,
  type CancelReason,
  type OrderEvent,
  type OrderLine,
  type ShippingAddress,
  type StockFailureCode,
  type StockLine,
  type StockShortage
} from './events.ts'
import { DEFAULT_PAYMENT_TOKEN, orderTotal, validatePlaceOrder } from './placeOrder.ts'

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
  /** Canceled (declined payment, or on request); compensations follow. Final. */
  CANCELED: 'CANCELED',
  /** The placement failed: stock could not be reserved (StockReservationFailed). Final. */
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
}

export type OrderState = NoOrder | Order

export function initialState (): OrderState {
  return { status: ORDER_STATUS.NOT_PLACED }
}

/** The stock an order needs: its lines added up per SKU, in SKU order (the order inventory streams are appended in). */
export function stockLines (order: { readonly lines: readonly StockLine[] }): StockLine[] {
  const bySku = new Map<string, number>()
  for (const line of order.lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity)
  return [...bySku].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([sku, quantity]) => ({ sku, quantity }))
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

/** The compensations a canceled order needs, done or not (none for an order that is not canceled). */
export function requiredCompensations (order: Order): Compensation[] {
  if (order.status !== ORDER_STATUS.CANCELED) return []
  return [
    ...(order.done.reserveStock !== undefined ? [COMPENSATION.RELEASE_STOCK] : []),
    ...(order.done.capturePayment !== undefined ? [COMPENSATION.REFUND_PAYMENT] : []),
    COMPENSATION.EMAIL_CANCELLATION
  ]
}

export function pendingCompensations (order: Order): Compensation[] {
  return requiredCompensations(order).filter(c => order.compensated[c] === undefined)
}

const COMPENSATIONS: ReadonlySet<string> = new Set(Object.values(COMPENSATION))

export function isCompensation (work: OrderStep | Compensation): work is Compensation {
  return COMPENSATIONS.has(work)
}

function missingPrerequisites (order: Order, step: OrderStep): OrderStep[] {
  return STEP_PREREQUISITES[step].filter(required => order.done[required] === undefined)
}

function placed (state: OrderState, command: OrderCommand): Order {
  if (state.status === ORDER_STATUS.NOT_PLACED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_NOT_FOUND, `${command.type} needs a placed order, and this stream has none`)
  }
  return state
}

/** The guards of a forward step, in order; then `record` decides its events. */
function forwardStep (order: Order, step: OrderStep, record: () => OrderEvent[], options: { acceptWhenCanceled?: boolean } = {}): OrderEvent[] {
  if (order.done[step] !== undefined) return []
  if (order.status === ORDER_STATUS.FAILED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_FAILED, `${step} cannot run: the placement of order ${order.orderNumber} failed (${order.stockFailure?.code})`, { orderId: order.orderId })
  }
  if (order.status === ORDER_STATUS.CANCELED && options.acceptWhenCanceled !== true) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_CANCELED, `${step} cannot run: order ${order.orderNumber} is canceled`, { orderId: order.orderId })
  }
  const missing = missingPrerequisites(order, step)
  if (missing.length > 0) {
    throw new OrderError(ORDER_ERROR_CODE.STEP_OUT_OF_ORDER, `${step} of order ${order.orderNumber} waits for ${missing.join(', ')}`, { orderId: order.orderId, missing })
  }
  return record()
}

function compensation (order: Order, which: Compensation, record: () => OrderEvent[]): OrderEvent[] {
  if (order.status !== ORDER_STATUS.CANCELED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_NOT_CANCELED, `${which} compensates a canceled order, and order ${order.orderNumber} is ${order.status}`, { orderId: order.orderId })
  }
  if (order.compensated[which] !== undefined) return []
  if (!requiredCompensations(order).includes(which)) {
    throw new OrderError(ORDER_ERROR_CODE.COMPENSATION_NOT_NEEDED, `order ${order.orderNumber} needs no ${which}`, { orderId: order.orderId })
  }
  return record()
}

export function decide (command: OrderCommand, state: OrderState): OrderEvent[] {
  const at = command.now.toISOString()
  switch (command.type) {
    case 'PlaceOrder': {
      const { orderId, orderNumber, owner, input } = command.data
      if (state.status !== ORDER_STATUS.NOT_PLACED) {
        // The placement retried: the order is there already.
        if (state.orderId === orderId) return []
        throw new OrderError(ORDER_ERROR_CODE.ORDER_ALREADY_EXISTS, `this stream holds order ${state.orderNumber} already`, { orderId: state.orderId })
      }
      const validation = validatePlaceOrder(input)
      if (!validation.ok) throw new OrderError(ORDER_ERROR_CODE.INVALID_ORDER, validation.message, { orderId })
      return [{
        type: 'OrderPlaced',
        data: {
          orderId,
          orderNumber,
          customerEmail: input.customerEmail,
          currency: input.currency,
          lines: input.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
          shippingAddress: { ...input.shippingAddress },
          paymentToken: input.paymentToken ?? DEFAULT_PAYMENT_TOKEN,
          owner,
          total: orderTotal(input.items),
          placedAt: at
        }
      }]
    }

    case 'RecordStockReserved': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.RESERVE_STOCK, () => [{ type: 'StockReserved', data: { lines: stockLines(order), reservedAt: at } }])
    }

    case 'RecordStockShortage': {
      const order = placed(state, command)
      // The shortage reported again: the placement has failed already.
      if (order.status === ORDER_STATUS.FAILED) return []
      if (order.done.reserveStock !== undefined) {
        throw new OrderError(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED, `the stock of order ${order.orderNumber} is reserved already`, { orderId: order.orderId })
      }
      if (order.status === ORDER_STATUS.CANCELED) {
        throw new OrderError(ORDER_ERROR_CODE.ORDER_CANCELED, `reserveStock cannot run: order ${order.orderNumber} is canceled`, { orderId: order.orderId })
      }
      return [{ type: 'StockReservationFailed', data: { code: command.data.code, shortages: command.data.shortages, failedAt: at } }]
    }

    case 'RecordPaymentCaptured': {
      const order = placed(state, command)
      if (order.paymentDeclined !== null) {
        throw new OrderError(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED, `the payment of order ${order.orderNumber} was declined`, { orderId: order.orderId })
      }
      // A capture that completes after the order was canceled (the cancellation came in while the
      // provider was charging) is still recorded: money was taken, so refundPayment becomes due.
      return forwardStep(order, ORDER_STEP.CAPTURE_PAYMENT, () => [{
        type: 'PaymentCaptured',
        data: { paymentId: command.data.paymentId, amount: order.total, currency: order.currency, capturedAt: at }
      }], { acceptWhenCanceled: true })
    }

    case 'RecordPaymentDeclined': {
      const order = placed(state, command)
      if (order.paymentDeclined !== null) return []
      if (order.done.capturePayment !== undefined) {
        throw new OrderError(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED, `the payment of order ${order.orderNumber} is captured already`, { orderId: order.orderId })
      }
      // The compensating saga starts here: the order is canceled at once, so that no further step
      // runs, and OrderCanceled's compensations (release stock, email the customer) follow.
      return forwardStep(order, ORDER_STEP.CAPTURE_PAYMENT, () => [
        { type: 'PaymentFailed', data: { reason: command.data.reason, failedAt: at } },
        { type: 'OrderCanceled', data: { reason: CANCEL_REASON.PAYMENT_DECLINED, canceledAt: at } }
      ])
    }

    case 'RecordInvoiceCreated': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.CREATE_INVOICE, () => [{
        type: 'InvoiceCreated',
        data: { invoiceNumber: command.data.invoiceNumber, amount: order.total, currency: order.currency, createdAt: at }
      }])
    }

    case 'RecordInvoiceEmailed': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.EMAIL_INVOICE, () => [{
        type: 'InvoiceEmailed',
        data: { invoiceNumber: order.invoiceNumber!, to: order.customerEmail, messageId: command.data.messageId, emailedAt: at }
      }])
    }

    case 'RecordShipmentCreated': {
      const order = placed(state, command)
      const { shipmentId, carrier, trackingNumber } = command.data
      return forwardStep(order, ORDER_STEP.CREATE_SHIPMENT, () => [{ type: 'ShipmentCreated', data: { shipmentId, carrier, trackingNumber, createdAt: at } }])
    }

    case 'RecordShippingLabelPrinted': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.PRINT_SHIPPING_LABEL, () => [{
        type: 'ShippingLabelPrinted',
        data: { shipmentId: order.shipmentId!, labelRef: command.data.labelRef, printedAt: at }
      }])
    }

    case 'RecordTrackingUpdated': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.UPDATE_TRACKING, () => [{
        type: 'TrackingUpdated',
        data: { trackingNumber: order.trackingNumber!, status: command.data.status, updatedAt: at }
      }])
    }

    case 'RecordShippingEmailSent': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.EMAIL_SHIPPING, () => [{
        type: 'ShippingEmailSent',
        data: { trackingNumber: order.trackingNumber!, to: order.customerEmail, messageId: command.data.messageId, sentAt: at }
      }])
    }

    case 'RecordOrderExportedToErp': {
      const order = placed(state, command)
      return forwardStep(order, ORDER_STEP.EXPORT_TO_ERP, () => [{ type: 'OrderExportedToErp', data: { erpReference: command.data.erpReference, exportedAt: at } }])
    }

    case 'CompleteOrder': {
      const order = placed(state, command)
      if (order.status === ORDER_STATUS.COMPLETED) return []
      if (order.status === ORDER_STATUS.CANCELED) {
        throw new OrderError(ORDER_ERROR_CODE.ORDER_CANCELED, `order ${order.orderNumber} is canceled and cannot be completed`, { orderId: order.orderId })
      }
      if (order.status === ORDER_STATUS.FAILED) {
        throw new OrderError(ORDER_ERROR_CODE.ORDER_FAILED, `the placement of order ${order.orderNumber} failed; it cannot be completed`, { orderId: order.orderId })
      }
      const missing = pendingSteps(order)
      if (missing.length > 0) {
        throw new OrderError(ORDER_ERROR_CODE.STEPS_PENDING, `order ${order.orderNumber} waits for ${missing.join(', ')}`, { orderId: order.orderId, missing })
      }
      return [{ type: 'OrderCompleted', data: { completedAt: at } }]
    }

    case 'CancelOrder': {
      const order = placed(state, command)
      if (order.status === ORDER_STATUS.CANCELED) return []
      if (order.status === ORDER_STATUS.COMPLETED) {
        throw new OrderError(ORDER_ERROR_CODE.ORDER_COMPLETED, `order ${order.orderNumber} is completed and can no longer be canceled`, { orderId: order.orderId })
      }
      if (order.status === ORDER_STATUS.FAILED) {
        throw new OrderError(ORDER_ERROR_CODE.ORDER_FAILED, `the placement of order ${order.orderNumber} failed; there is nothing to cancel`, { orderId: order.orderId })
      }
      return [{ type: 'OrderCanceled', data: { reason: CANCEL_REASON.REQUESTED, canceledAt: at } }]
    }

    case 'RecordStockReleased': {
      const order = placed(state, command)
      return compensation(order, COMPENSATION.RELEASE_STOCK, () => [{ type: 'StockReleased', data: { lines: stockLines(order), releasedAt: at } }])
    }

    case 'RecordPaymentRefunded': {
      const order = placed(state, command)
      return compensation(order, COMPENSATION.REFUND_PAYMENT, () => [{
        type: 'PaymentRefunded',
        data: { paymentId: order.paymentId!, refundId: command.data.refundId, amount: order.total, currency: order.currency, refundedAt: at }
      }])
    }

    case 'RecordCancellationEmailed': {
      const order = placed(state, command)
      return compensation(order, COMPENSATION.EMAIL_CANCELLATION, () => [{
        type: 'CancellationEmailed',
        data: { to: order.customerEmail, messageId: command.data.messageId, emailedAt: at }
      }])
    }

    case 'RecordStepFailed': {
      const order = placed(state, command)
      const { step, attempt, error, final } = command.data
      // A failure reported after the step succeeded (a late attempt) changes nothing.
      if ((order.done as Record<string, string | undefined>)[step] !== undefined) return []
      if ((order.compensated as Record<string, string | undefined>)[step] !== undefined) return []
      return [{ type: 'StepFailed', data: { step, attempt, error, final, failedAt: at } }]
    }

    case 'RecordStepRetried': {
      const order = placed(state, command)
      const { step } = command.data
      const retried = (): OrderEvent[] => [{ type: 'StepRetried', data: { step, retriedAt: at } }]
      // Only work not done is tried again: a step done since (by a late attempt) records nothing.
      return isCompensation(step) ? compensation(order, step, retried) : forwardStep(order, step, retried)
    }

    default: {
      const unknown: never = command
      throw new TypeError(`unknown order command ${(unknown as { type?: unknown }).type}`)
    }
  }
}

export function evolve (state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderPlaced') {
    const { placedAt, ...order } = event.data
    return {
      ...order,
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
      closedAt: null
    }
  }
  // Every other event follows OrderPlaced in a stream written by decide.
  if (state.status === ORDER_STATUS.NOT_PLACED) return state
  const order = state
  const done = (step: OrderStep, at: string): Order => ({ ...order, done: { ...order.done, [step]: at } })
  const compensated = (which: Compensation, at: string): Order => ({ ...order, compensated: { ...order.compensated, [which]: at } })

  switch (event.type) {
    case 'StockReserved':
      return done(ORDER_STEP.RESERVE_STOCK, event.data.reservedAt)
    case 'StockReservationFailed':
      return { ...order, status: ORDER_STATUS.FAILED, stockFailure: { code: event.data.code, shortages: event.data.shortages }, closedAt: event.data.failedAt }
    case 'PaymentCaptured':
      return { ...done(ORDER_STEP.CAPTURE_PAYMENT, event.data.capturedAt), paymentId: event.data.paymentId }
    case 'PaymentFailed':
      return { ...order, paymentDeclined: event.data.reason }
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
      return { ...order, status: ORDER_STATUS.CANCELED, cancelReason: event.data.reason, closedAt: event.data.canceledAt }
    case 'StockReleased':
      return compensated(COMPENSATION.RELEASE_STOCK, event.data.releasedAt)
    case 'PaymentRefunded':
      return compensated(COMPENSATION.REFUND_PAYMENT, event.data.refundedAt)
    case 'CancellationEmailed':
      return compensated(COMPENSATION.EMAIL_CANCELLATION, event.data.emailedAt)
    case 'StepFailed':
    case 'StepRetried':
      return order
    default: {
      const unknown: never = event
      throw new TypeError(`unknown order event ${(unknown as { type?: unknown }).type}`)
    }
  }
}
