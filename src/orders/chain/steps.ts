/**
 * What each step and compensation does, outside the database: it calls its outside system with an
 * idempotency key derived from the order and the step, and answers the command that records the
 * outcome. Run before the step's transaction (a call must not hold locks); a retried step calls
 * again with the same key and the outside system answers what it did the first time, so nothing is
 * charged, emailed, printed or exported twice.
 */
import type { OutsideCall, OutsideSystems } from '../../adapters/ports.ts'
import type { OrderCommand } from '../domain/commands.ts'
import { ORDER_STATUS, ORDER_STEP, type Order, type OrderStep } from '../domain/order.ts'
import type { ChainWork } from './topics.ts'

/** A command without its time: the step's transaction stamps it. */
export type Outcome = OrderCommand extends infer C ? C extends OrderCommand ? Omit<C, 'now'> : never : never

/** The key an outside system dedupes a step's calls by. */
export function idempotencyKey (orderId: string, work: ChainWork): string {
  return `${orderId}:${work}`
}

/** The invoice number of an order: one invoice per order, named after it (ORD-00000042 → INV-00000042). */
export function invoiceNumberOf (orderNumber: string): string {
  return orderNumber.replace(/^ORD-/, 'INV-')
}

/**
 * Work that calls no outside system, done in the transaction that makes it due rather than as a job
 * of its own (issue 17, item 3): OrderChanges decides it there, with the outcome that records it.
 * It is then exactly once as the transaction is: the aggregate records a step once, and what made
 * it due commits with it or not at all (a step retried after a crash makes it due again, once).
 * Completing the order is the other such reaction (OrderChanges). releaseStock calls no outside
 * system either, but moves stock on the SKUs' streams, whose locks the transactions that cancel an
 * order do not take: it stays a job.
 */
export const IN_TRANSACTION_WORK: Readonly<Partial<Record<ChainWork, (order: Order) => Outcome>>> = Object.freeze({
  createInvoice: (order: Order): Outcome => ({ type: 'RecordInvoiceCreated', data: { invoiceNumber: invoiceNumberOf(order.orderNumber) } })
})

/** How the cancellation email names a step that gave up. */
const STEP_WORDS: Readonly<Record<OrderStep, string>> = Object.freeze({
  reserveStock: 'reserving its stock',
  capturePayment: 'taking the payment',
  createInvoice: 'creating the invoice',
  emailInvoice: 'emailing the invoice',
  createShipment: 'booking the shipment',
  printShippingLabel: 'printing the shipping label',
  updateTracking: 'tracking the parcel',
  emailShipping: 'emailing the shipping notice',
  exportToErp: 'passing it to our order system'
})

type StepWork = (order: Order, call: OutsideCall, systems: OutsideSystems) => Promise<Outcome>

function address (order: Order) {
  const { name, street, city, postcode, country } = order.shippingAddress
  return { name, street, city, postcode, country }
}

function linesText (order: Order): string {
  return order.lines.map(line => `  ${line.quantity} × ${line.sku} at ${line.unitPrice} ${order.currency}`).join('\n')
}

export const STEP_WORK: Readonly<Record<ChainWork, StepWork>> = Object.freeze({
  async capturePayment (order, call, { payment }) {
    // Canceled mid-payment (CaptureOutcomeAwaited): nothing is charged now, but a capture an earlier
    // attempt made (its answer lost, or its transaction rolled back) is found and recorded, to be refunded.
    if (order.status === ORDER_STATUS.CANCELED) {
      const taken = await payment.findCapture({ idempotencyKey: call.idempotencyKey })
      const outcome: Outcome = taken === null ? { type: 'RecordCaptureRuledOut', data: {} } : { type: 'RecordPaymentCaptured', data: { paymentId: taken.paymentId } }
      return outcome
    }
    const answer = await payment.capture({ ...call, token: order.paymentToken, amount: order.total, currency: order.currency, orderNumber: order.orderNumber })
    return answer.outcome === 'captured'
      ? { type: 'RecordPaymentCaptured', data: { paymentId: answer.paymentId } }
      : { type: 'RecordPaymentDeclined', data: { reason: answer.reason } }
  },

  // No outside system: done in the transaction of the capture (IN_TRANSACTION_WORK); a job of it
  // enqueued before that (by an older version, or retryOrder of one that gave up then) records the same.
  async createInvoice (order) {
    return IN_TRANSACTION_WORK.createInvoice!(order)
  },

  async emailInvoice (order, call, { documents, mailer }) {
    const invoiceNumber = order.invoiceNumber ?? invoiceNumberOf(order.orderNumber)
    const pdf = await documents.invoicePdf({
      invoiceNumber,
      orderNumber: order.orderNumber,
      customerEmail: order.customerEmail,
      currency: order.currency,
      total: order.total,
      lines: order.lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
      address: address(order),
      createdAt: order.done.createInvoice ?? order.placedAt
    })
    const { messageId } = await mailer.send({
      ...call,
      to: order.customerEmail,
      subject: `Your invoice ${invoiceNumber} for order ${order.orderNumber}`,
      text: `Thank you for your order ${order.orderNumber}.\n\n${linesText(order)}\n\nTotal: ${order.total} ${order.currency}\n\nYour invoice ${invoiceNumber} is attached.`,
      attachments: [{ filename: `${invoiceNumber}.pdf`, content: pdf, contentType: 'application/pdf' }]
    })
    return { type: 'RecordInvoiceEmailed', data: { messageId } }
  },

  async createShipment (order, call, { carrier }) {
    const shipment = await carrier.createShipment({ ...call, orderNumber: order.orderNumber, address: address(order) })
    return { type: 'RecordShipmentCreated', data: shipment }
  },

  async printShippingLabel (order, call, { printer }) {
    const { labelRef } = await printer.printLabel({
      ...call, orderNumber: order.orderNumber, trackingNumber: order.trackingNumber!, carrier: order.carrier!, address: address(order)
    })
    return { type: 'RecordShippingLabelPrinted', data: { labelRef } }
  },

  async updateTracking (order, call, { carrier }) {
    const { status } = await carrier.trackingStatus({ ...call, trackingNumber: order.trackingNumber! })
    return { type: 'RecordTrackingUpdated', data: { status } }
  },

  async emailShipping (order, call, { mailer }) {
    const { messageId } = await mailer.send({
      ...call,
      to: order.customerEmail,
      subject: `Your order ${order.orderNumber} is on its way`,
      text: `Your order ${order.orderNumber} has shipped with ${order.carrier!}.\n\nTracking number: ${order.trackingNumber}\n\n${linesText(order)}`
    })
    return { type: 'RecordShippingEmailSent', data: { messageId } }
  },

  async exportToErp (order, call, { erp }) {
    const { erpReference } = await erp.exportOrder({
      ...call,
      document: {
        orderId: order.orderId,
        orderNumber: order.orderNumber,
        customerEmail: order.customerEmail,
        currency: order.currency,
        total: order.total,
        lines: order.lines,
        shippingAddress: order.shippingAddress,
        paymentId: order.paymentId,
        placedAt: order.placedAt
      }
    })
    return { type: 'RecordOrderExportedToErp', data: { erpReference } }
  },

  // No outside system: the stock goes back to the SKUs' streams in the step's transaction.
  async releaseStock () {
    return { type: 'RecordStockReleased', data: {} }
  },

  async refundPayment (order, call, { payment }) {
    const { refundId } = await payment.refund({ ...call, paymentId: order.paymentId!, amount: order.total, currency: order.currency })
    return { type: 'RecordPaymentRefunded', data: { refundId } }
  },

  async emailCancellation (order, call, { mailer }) {
    const why = order.cancelReason === 'PAYMENT_DECLINED'
      ? `the payment was declined (${order.paymentDeclined ?? 'declined'})`
      : order.cancelReason === 'STEP_GAVE_UP' ? `we could not complete it (${STEP_WORDS[order.gaveUpStep ?? ORDER_STEP.CAPTURE_PAYMENT]} kept failing)` : 'it was canceled on request'
    const { messageId } = await mailer.send({
      ...call,
      to: order.customerEmail,
      subject: `Your order ${order.orderNumber} was canceled`,
      text: `We are sorry: your order ${order.orderNumber} was canceled because ${why}.\n\n${linesText(order)}\n\n` +
        (order.done.capturePayment !== undefined
          ? `The ${order.total} ${order.currency} charged will be refunded.\n`
          // A capture under way when the order was canceled is still found and refunded (src/orders/chain/handler.ts).
          : 'If any payment was taken for it, it will be refunded.\n')
    })
    return { type: 'RecordCancellationEmailed', data: { messageId } }
  }
})
