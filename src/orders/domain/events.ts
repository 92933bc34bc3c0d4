/**
 * The events of an order's stream (`order-<orderId>`), as stored in the event store: a `type` and
 * JSON-safe `data` (times are ISO 8601 strings, amounts decimal strings), so that an event reads
 * back exactly as it was decided. Pure: no I/O.
 *
 * The forward chain (issue 4): OrderPlaced → StockReserved → PaymentCaptured → InvoiceCreated →
 * InvoiceEmailed; ShipmentCreated (after stock and payment) → ShippingLabelPrinted →
 * TrackingUpdated → ShippingEmailSent; OrderExportedToErp (after payment); OrderCompleted.
 * The failures: StockReservationFailed (placement fails); PaymentFailed followed by OrderCanceled,
 * whose compensations are StockReleased, PaymentRefunded and CancellationEmailed. A step given up
 * on (StepFailed, final) is tried again after StepRetried (retryOrder).
 *
 * Issue 13: PlacementRetried (a FAILED placement decided again, after retryBulk); StockShipped (with
 * ShipmentCreated: the reserved units left the warehouse); OrderGivenUp before OrderCanceled (a
 * step gave up and its timer ran out); CaptureOutcomeAwaited after OrderCanceled (a capture may
 * still land), answered by PaymentCaptured, PaymentFailed or CaptureRuledOut. Streams written
 * before have none of them and fold as they did.
 *
 * Issue 15, part 4 (imports): OrderImported starts the stream of a historical order instead of
 * OrderPlaced, with its given number and date; StepSkipped records each step an import does not
 * run (payment, invoice, emails, shipment, …), with the reason the order view shows.
 */
import type { StockFailureCode, StockLine, StockShortage } from '../../inventory/domain/stock.ts'
import type { AddressInput, OrderItemInput } from './placeOrder.ts'

/** Why an order was canceled. */
export const CANCEL_REASON = Object.freeze({
  /** The payment provider declined the payment: the compensating saga runs. */
  PAYMENT_DECLINED: 'PAYMENT_DECLINED',
  /** Someone asked for it (the cancelOrder mutation). */
  REQUESTED: 'REQUESTED',
  /** A step gave up and nobody retried it within ORDER_GIVE_UP_AFTER_SECONDS (OrderGivenUp names it). */
  STEP_GAVE_UP: 'STEP_GAVE_UP'
} as const)
export type CancelReason = (typeof CANCEL_REASON)[keyof typeof CANCEL_REASON]

export type OrderLine = OrderItemInput
export type ShippingAddress = AddressInput

export interface OrderPlaced {
  readonly type: 'OrderPlaced'
  readonly data: {
    readonly orderId: string
    readonly orderNumber: string
    readonly customerEmail: string
    readonly currency: string
    readonly lines: readonly OrderLine[]
    readonly shippingAddress: ShippingAddress
    /** What capturePayment charges (the provider's token). */
    readonly paymentToken: string
    /** Who placed it (the bulk's owner): the only caller who may read it. */
    readonly owner: string
    /** Sum of the lines, exact, four decimals (orderTotal). */
    readonly total: string
    readonly placedAt: string
  }
}

/** What an import does with stock: nothing (SKIP), or take the units out (DEDUCT: reserved, then shipped at once). */
export const IMPORT_STOCK = Object.freeze({ SKIP: 'SKIP', DEDUCT: 'DEDUCT' } as const)
export type ImportStock = (typeof IMPORT_STOCK)[keyof typeof IMPORT_STOCK]

/** How an order is imported (placeOrders(mode: IMPORT)): its stock, and whether the ERP export runs. */
export interface ImportOptions {
  readonly stock: ImportStock
  readonly exportToErp: boolean
}

/**
 * A historical order recorded (placeOrders(mode: IMPORT)): as OrderPlaced, its number and
 * `placedAt` as the client gave them; `importedAt` is when the gateway recorded it.
 */
export interface OrderImported {
  readonly type: 'OrderImported'
  readonly data: OrderPlaced['data'] & ImportOptions & { readonly importedAt: string }
}

/** A step an imported order does not run; `reason` says why (the order view shows it). */
export interface StepSkipped {
  readonly type: 'StepSkipped'
  readonly data: { readonly step: string, readonly reason: string, readonly skippedAt: string }
}

export interface StockReserved {
  readonly type: 'StockReserved'
  /** One line per SKU (an order's lines of one SKU added up), as the inventory streams reserved them. */
  readonly data: { readonly lines: readonly StockLine[], readonly reservedAt: string }
}

export interface StockReservationFailed {
  readonly type: 'StockReservationFailed'
  readonly data: { readonly code: StockFailureCode, readonly shortages: readonly StockShortage[], readonly failedAt: string }
}

export interface PaymentCaptured {
  readonly type: 'PaymentCaptured'
  /** `amount` is the order total, in the order's currency. */
  readonly data: { readonly paymentId: string, readonly amount: string, readonly currency: string, readonly capturedAt: string }
}

export interface PaymentFailed {
  readonly type: 'PaymentFailed'
  /** A decline, final; transient provider failures are retried and recorded nowhere in the stream. */
  readonly data: { readonly reason: string, readonly failedAt: string }
}

export interface InvoiceCreated {
  readonly type: 'InvoiceCreated'
  readonly data: { readonly invoiceNumber: string, readonly amount: string, readonly currency: string, readonly createdAt: string }
}

export interface InvoiceEmailed {
  readonly type: 'InvoiceEmailed'
  readonly data: { readonly invoiceNumber: string, readonly to: string, readonly messageId: string, readonly emailedAt: string }
}

export interface ShipmentCreated {
  readonly type: 'ShipmentCreated'
  /** The carrier assigns the tracking number when the shipment is created; the label prints it. */
  readonly data: { readonly shipmentId: string, readonly carrier: string, readonly trackingNumber: string, readonly createdAt: string }
}

export interface ShippingLabelPrinted {
  readonly type: 'ShippingLabelPrinted'
  /** `labelRef`: where the label went (spool file, print job id). */
  readonly data: { readonly shipmentId: string, readonly labelRef: string, readonly printedAt: string }
}

export interface TrackingUpdated {
  readonly type: 'TrackingUpdated'
  /** `status`: the carrier's word for where the parcel is. */
  readonly data: { readonly trackingNumber: string, readonly status: string, readonly updatedAt: string }
}

export interface ShippingEmailSent {
  readonly type: 'ShippingEmailSent'
  readonly data: { readonly trackingNumber: string, readonly to: string, readonly messageId: string, readonly sentAt: string }
}

export interface OrderExportedToErp {
  readonly type: 'OrderExportedToErp'
  /** `erpReference`: the ERP's id for the order, or the line of the export file. */
  readonly data: { readonly erpReference: string, readonly exportedAt: string }
}

export interface OrderCompleted {
  readonly type: 'OrderCompleted'
  readonly data: { readonly completedAt: string }
}

export interface OrderCanceled {
  readonly type: 'OrderCanceled'
  readonly data: { readonly reason: CancelReason, readonly canceledAt: string }
}

/**
 * An attempt of a step (or compensation) failed. Transient failures are retried and `final` is
 * false; `final` is true when the step was given up on (its retries used up). The read model's
 * attempts and lastError follow from it; the aggregate keeps only which work is given up (no job
 * carries it until StepRetried), and since when.
 */
export interface StepFailed {
  readonly type: 'StepFailed'
  readonly data: { readonly step: string, readonly attempt: number, readonly error: string, readonly final: boolean, readonly failedAt: string }
}

/**
 * A step (or compensation) given up on is tried again: a new job was enqueued for it (retryOrder).
 * The read model shows it PENDING again with its attempts and lastError kept; the aggregate counts
 * the work as due again.
 */
export interface StepRetried {
  readonly type: 'StepRetried'
  readonly data: { readonly step: string, readonly retriedAt: string }
}

/**
 * The placement of a FAILED order runs again (retryBulk): the order is PLACED again and its stock
 * is decided again right after (StockReserved, or StockReservationFailed once more).
 */
export interface PlacementRetried {
  readonly type: 'PlacementRetried'
  readonly data: { readonly retriedAt: string }
}

/** The order's reserved stock left the warehouse: its shipment was created (InventoryShipped on each SKU). */
export interface StockShipped {
  readonly type: 'StockShipped'
  readonly data: { readonly lines: readonly StockLine[], readonly shippedAt: string }
}

/** A step gave up and stayed given up for ORDER_GIVE_UP_AFTER_SECONDS: OrderCanceled (STEP_GAVE_UP) follows. */
export interface OrderGivenUp {
  readonly type: 'OrderGivenUp'
  readonly data: { readonly step: string, readonly givenUpAt: string }
}

/**
 * The order was canceled while its payment was neither captured nor declined: a capture under way
 * may still land. The capture step answers (PaymentCaptured: refunded; PaymentFailed; or
 * CaptureRuledOut); until then the order is not final.
 */
export interface CaptureOutcomeAwaited {
  readonly type: 'CaptureOutcomeAwaited'
  readonly data: { readonly awaitedAt: string }
}

/** The provider holds no capture under the order's key, asked after its cancellation: none will come. */
export interface CaptureRuledOut {
  readonly type: 'CaptureRuledOut'
  readonly data: { readonly ruledOutAt: string }
}

/** Compensation: the stock StockReserved held goes back to the inventory streams. */
export interface StockReleased {
  readonly type: 'StockReleased'
  readonly data: { readonly lines: readonly StockLine[], readonly releasedAt: string }
}

/** Compensation: a captured payment of a canceled order is paid back. */
export interface PaymentRefunded {
  readonly type: 'PaymentRefunded'
  readonly data: { readonly paymentId: string, readonly refundId: string, readonly amount: string, readonly currency: string, readonly refundedAt: string }
}

/** Compensation: the customer is told that the order was canceled, and why. */
export interface CancellationEmailed {
  readonly type: 'CancellationEmailed'
  readonly data: { readonly to: string, readonly messageId: string, readonly emailedAt: string }
}

export type OrderEvent =
  | OrderPlaced
  | OrderImported
  | StepSkipped
  | StockReserved
  | StockReservationFailed
  | PaymentCaptured
  | PaymentFailed
  | InvoiceCreated
  | InvoiceEmailed
  | ShipmentCreated
  | ShippingLabelPrinted
  | TrackingUpdated
  | ShippingEmailSent
  | OrderExportedToErp
  | OrderCompleted
  | OrderCanceled
  | StockReleased
  | PaymentRefunded
  | CancellationEmailed
  | StepFailed
  | StepRetried
  | PlacementRetried
  | StockShipped
  | OrderGivenUp
  | CaptureOutcomeAwaited
  | CaptureRuledOut
