/**
 * The order aggregate's decisions: one function per command, each given the command, the state
 * folded from the order's stream and the command's time, answering the events to append (none when
 * the command was carried out already: every command is idempotent) or an OrderError.
 */
import { stockLines } from '../../inventory/domain/stock.ts'
import type { OrderCommand } from './commands.ts'
import { ORDER_ERROR_CODE, OrderError } from './errors.ts'
import { CANCEL_REASON, IMPORT_STOCK, type OrderEvent, type OrderPlaced } from './events.ts'
import { importSkips, importStockSkips, validateImport } from './importOrder.ts'
import { COMPENSATION, evolve, missingPrerequisites, isCompensation, ORDER_STATUS, ORDER_STEP, pendingSteps, requiredCompensations, type Compensation, type Order, type OrderState, type OrderStep } from './order.ts'
import { DEFAULT_PAYMENT_TOKEN, orderTotal, validatePlaceOrder } from './placeOrder.ts'

type CommandOf<T extends OrderCommand['type']> = Extract<OrderCommand, { readonly type: T }>

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

function placeOrder (command: CommandOf<'PlaceOrder'>, state: OrderState, at: string): OrderEvent[] {
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

function importOrder (command: CommandOf<'ImportOrder'>, state: OrderState, at: string): OrderEvent[] {
  const { orderId, owner, input, options } = command.data
  if (state.status !== ORDER_STATUS.NOT_PLACED) {
    if (state.orderId === orderId) return []
    throw new OrderError(ORDER_ERROR_CODE.ORDER_ALREADY_EXISTS, `this stream holds order ${state.orderNumber} already`, { orderId: state.orderId })
  }
  const validation = [validatePlaceOrder(input), validateImport(input, command.now)].find(v => !v.ok)
  if (validation !== undefined && !validation.ok) throw new OrderError(ORDER_ERROR_CODE.INVALID_ORDER, validation.message, { orderId })
  const [placed] = placeOrder({ type: 'PlaceOrder', data: { orderId, orderNumber: input.orderNumber!, owner, input }, now: command.now }, state, at)
  const imported: OrderEvent = {
    type: 'OrderImported',
    data: { ...(placed as OrderPlaced).data, placedAt: new Date(input.placedAt!).toISOString(), ...options, importedAt: at }
  }
  if (options.stock !== IMPORT_STOCK.SKIP) return [imported]
  // Stock skipped: the rest of the import follows at once (with DEDUCT, once the placement reserved it).
  const stockSkipped = importStockSkips(options, at)
  const order = stockSkipped.reduce(evolve, evolve(state, imported)) as Order
  return [imported, ...stockSkipped, ...importSkips(order, at)]
}

function retryPlacement (command: CommandOf<'RetryPlacement'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  // Only a placement that failed is decided again; a placed order answers what it is.
  if (order.status !== ORDER_STATUS.FAILED) return []
  return [{ type: 'PlacementRetried', data: { retriedAt: at } }]
}

function recordStockReserved (command: CommandOf<'RecordStockReserved'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  const reserved: OrderEvent = { type: 'StockReserved', data: { lines: stockLines(order), reservedAt: at } }
  if (order.imported === null) return forwardStep(order, ORDER_STEP.RESERVE_STOCK, () => [reserved])
  // An import that deducts stock (stock: DEDUCT): the units leave at once, as its shipment is skipped.
  return forwardStep(order, ORDER_STEP.RESERVE_STOCK, () => [reserved, { type: 'StockShipped', data: { lines: stockLines(order), shippedAt: at } }, ...importSkips(order, at)])
}

function recordStockShortage (command: CommandOf<'RecordStockShortage'>, state: OrderState, at: string): OrderEvent[] {
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

function recordPaymentCaptured (command: CommandOf<'RecordPaymentCaptured'>, state: OrderState, at: string): OrderEvent[] {
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

function recordPaymentDeclined (command: CommandOf<'RecordPaymentDeclined'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  if (order.paymentDeclined !== null) return []
  if (order.done.capturePayment !== undefined) {
    throw new OrderError(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED, `the payment of order ${order.orderNumber} is captured already`, { orderId: order.orderId })
  }
  // The answer of a capture under way when the order was canceled: nothing was taken, nothing more to cancel.
  if (order.status === ORDER_STATUS.CANCELED && order.captureAwaited) return [{ type: 'PaymentFailed', data: { reason: command.data.reason, failedAt: at } }]
  // The compensating saga starts here: the order is canceled at once, so that no further step
  // runs, and OrderCanceled's compensations (release stock, email the customer) follow.
  return forwardStep(order, ORDER_STEP.CAPTURE_PAYMENT, () => [
    { type: 'PaymentFailed', data: { reason: command.data.reason, failedAt: at } },
    { type: 'OrderCanceled', data: { reason: CANCEL_REASON.PAYMENT_DECLINED, canceledAt: at } }
  ])
}

function recordInvoiceCreated (command: CommandOf<'RecordInvoiceCreated'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.CREATE_INVOICE, () => [{
    type: 'InvoiceCreated',
    data: { invoiceNumber: command.data.invoiceNumber, amount: order.total, currency: order.currency, createdAt: at }
  }])
}

function recordInvoiceEmailed (command: CommandOf<'RecordInvoiceEmailed'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.EMAIL_INVOICE, () => [{
    type: 'InvoiceEmailed',
    data: { invoiceNumber: order.invoiceNumber!, to: order.customerEmail, messageId: command.data.messageId, emailedAt: at }
  }])
}

function recordShipmentCreated (command: CommandOf<'RecordShipmentCreated'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  const { shipmentId, carrier, trackingNumber } = command.data
  // The reserved stock leaves the warehouse with the shipment (issue 13, item 2): InventoryShipped on each SKU.
  return forwardStep(order, ORDER_STEP.CREATE_SHIPMENT, () => [
    { type: 'ShipmentCreated', data: { shipmentId, carrier, trackingNumber, createdAt: at } },
    { type: 'StockShipped', data: { lines: stockLines(order), shippedAt: at } }
  ])
}

function recordShippingLabelPrinted (command: CommandOf<'RecordShippingLabelPrinted'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.PRINT_SHIPPING_LABEL, () => [{
    type: 'ShippingLabelPrinted',
    data: { shipmentId: order.shipmentId!, labelRef: command.data.labelRef, printedAt: at }
  }])
}

function recordTrackingUpdated (command: CommandOf<'RecordTrackingUpdated'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.UPDATE_TRACKING, () => [{
    type: 'TrackingUpdated',
    data: { trackingNumber: order.trackingNumber!, status: command.data.status, updatedAt: at }
  }])
}

function recordShippingEmailSent (command: CommandOf<'RecordShippingEmailSent'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.EMAIL_SHIPPING, () => [{
    type: 'ShippingEmailSent',
    data: { trackingNumber: order.trackingNumber!, to: order.customerEmail, messageId: command.data.messageId, sentAt: at }
  }])
}

function recordOrderExportedToErp (command: CommandOf<'RecordOrderExportedToErp'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return forwardStep(order, ORDER_STEP.EXPORT_TO_ERP, () => [{ type: 'OrderExportedToErp', data: { erpReference: command.data.erpReference, exportedAt: at } }])
}

function completeOrder (command: CommandOf<'CompleteOrder'>, state: OrderState, at: string): OrderEvent[] {
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

function cancelOrder (command: CommandOf<'CancelOrder'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  if (order.status === ORDER_STATUS.CANCELED) return []
  if (order.status === ORDER_STATUS.COMPLETED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_COMPLETED, `order ${order.orderNumber} is completed and can no longer be canceled`, { orderId: order.orderId })
  }
  if (order.status === ORDER_STATUS.FAILED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_FAILED, `the placement of order ${order.orderNumber} failed; there is nothing to cancel`, { orderId: order.orderId })
  }
  if (order.stockShipped) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_SHIPPED, `order ${order.orderNumber} has shipped and can no longer be canceled`, { orderId: order.orderId })
  }
  return [{ type: 'OrderCanceled', data: { reason: CANCEL_REASON.REQUESTED, canceledAt: at } }, ...awaitCapture(order, at)]
}

/**
 * What a cancellation adds when the payment is neither captured nor declined although its step
 * had a job (the stock was reserved): a capture under way may still land, so the order waits for
 * the capture step's answer before it is final.
 */
function awaitCapture (order: Order, at: string): OrderEvent[] {
  const unsettled = order.done.reserveStock !== undefined && order.done.capturePayment === undefined && order.paymentDeclined === null
  return unsettled ? [{ type: 'CaptureOutcomeAwaited', data: { awaitedAt: at } }] : []
}

function giveUpOrder (command: CommandOf<'GiveUpOrder'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  const { step, failedAt } = command.data
  // A timer is advice: an order that ended, a step retried (or given up again since, with a timer
  // of its own), stock that shipped (the order can no longer be canceled), or an imported order
  // (it holds nothing; a timer set before imports were exempt) records nothing.
  if (order.status !== ORDER_STATUS.PLACED || order.givenUp[step] !== failedAt || order.stockShipped || order.imported !== null) return []
  return [
    { type: 'OrderGivenUp', data: { step, givenUpAt: at } },
    { type: 'OrderCanceled', data: { reason: CANCEL_REASON.STEP_GAVE_UP, canceledAt: at } },
    ...awaitCapture(order, at)
  ]
}

function recordCaptureRuledOut (command: CommandOf<'RecordCaptureRuledOut'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  if (order.status !== ORDER_STATUS.CANCELED) {
    throw new OrderError(ORDER_ERROR_CODE.ORDER_NOT_CANCELED, `a capture is ruled out only for a canceled order, and order ${order.orderNumber} is ${order.status}`, { orderId: order.orderId })
  }
  return order.captureAwaited ? [{ type: 'CaptureRuledOut', data: { ruledOutAt: at } }] : []
}

function recordStockReleased (command: CommandOf<'RecordStockReleased'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return compensation(order, COMPENSATION.RELEASE_STOCK, () => [{ type: 'StockReleased', data: { lines: stockLines(order), releasedAt: at } }])
}

function recordPaymentRefunded (command: CommandOf<'RecordPaymentRefunded'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return compensation(order, COMPENSATION.REFUND_PAYMENT, () => [{
    type: 'PaymentRefunded',
    data: { paymentId: order.paymentId!, refundId: command.data.refundId, amount: order.total, currency: order.currency, refundedAt: at }
  }])
}

function recordCancellationEmailed (command: CommandOf<'RecordCancellationEmailed'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  return compensation(order, COMPENSATION.EMAIL_CANCELLATION, () => [{
    type: 'CancellationEmailed',
    data: { to: order.customerEmail, messageId: command.data.messageId, emailedAt: at }
  }])
}

function recordStepFailed (command: CommandOf<'RecordStepFailed'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  const { step, attempt, error, final } = command.data
  // A failure reported after the step succeeded (a late attempt) changes nothing.
  if ((order.done as Record<string, string | undefined>)[step] !== undefined) return []
  if ((order.compensated as Record<string, string | undefined>)[step] !== undefined) return []
  return [{ type: 'StepFailed', data: { step, attempt, error, final, failedAt: at } }]
}

function recordStepRetried (command: CommandOf<'RecordStepRetried'>, state: OrderState, at: string): OrderEvent[] {
  const order = placed(state, command)
  const { step } = command.data
  const retried = (): OrderEvent[] => [{ type: 'StepRetried', data: { step, retriedAt: at } }]
  // The capture step of a canceled order still owes the answer its cancellation awaits.
  if (step === ORDER_STEP.CAPTURE_PAYMENT && order.status === ORDER_STATUS.CANCELED && order.captureAwaited) return retried()
  // Only work not done is tried again: a step done since (by a late attempt) records nothing.
  return isCompensation(step) ? compensation(order, step, retried) : forwardStep(order, step, retried)
}

/** Every command's decider: a missing one is a type error, as an exhaustive switch would be. */
const DECIDERS: { readonly [T in OrderCommand['type']]: (command: CommandOf<T>, state: OrderState, at: string) => OrderEvent[] } = {
  PlaceOrder: placeOrder,
  ImportOrder: importOrder,
  RetryPlacement: retryPlacement,
  RecordStockReserved: recordStockReserved,
  RecordStockShortage: recordStockShortage,
  RecordPaymentCaptured: recordPaymentCaptured,
  RecordPaymentDeclined: recordPaymentDeclined,
  RecordInvoiceCreated: recordInvoiceCreated,
  RecordInvoiceEmailed: recordInvoiceEmailed,
  RecordShipmentCreated: recordShipmentCreated,
  RecordShippingLabelPrinted: recordShippingLabelPrinted,
  RecordTrackingUpdated: recordTrackingUpdated,
  RecordShippingEmailSent: recordShippingEmailSent,
  RecordOrderExportedToErp: recordOrderExportedToErp,
  CompleteOrder: completeOrder,
  CancelOrder: cancelOrder,
  GiveUpOrder: giveUpOrder,
  RecordCaptureRuledOut: recordCaptureRuledOut,
  RecordStockReleased: recordStockReleased,
  RecordPaymentRefunded: recordPaymentRefunded,
  RecordCancellationEmailed: recordCancellationEmailed,
  RecordStepFailed: recordStepFailed,
  RecordStepRetried: recordStepRetried
}

export function decide (command: OrderCommand, state: OrderState): OrderEvent[] {
  const decider = DECIDERS[command.type] as (command: OrderCommand, state: OrderState, at: string) => OrderEvent[]
  return decider(command, state, command.now.toISOString())
}
