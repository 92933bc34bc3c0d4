/**
 * The commands of the order aggregate. PlaceOrder and CancelOrder are asked for by clients; the
 * others report the outcome of a step of the chain, after its handler called the outside system
 * (one command per outcome). Ids and the clock come in with the command (`now`), so that `decide`
 * stays pure and a test fixes them. Pure: no I/O.
 */
import type { StockFailureCode, StockShortage } from '../../inventory/domain/stock.ts'
import type { Compensation, OrderStep } from './order.ts'
import type { ImportOptions } from './events.ts'
import type { PlaceOrderInput } from './placeOrder.ts'

interface Command<Type extends string, Data> {
  readonly type: Type
  readonly data: Data
  /** When the command is decided: the times of the events it records. */
  readonly now: Date
}

type Nothing = Readonly<Record<string, never>>

/** `orderNumber` is drawn by the caller (order_number_seq); `input` is validated by decide. */
export type PlaceOrder = Command<'PlaceOrder', { readonly orderId: string, readonly orderNumber: string, readonly owner: string, readonly input: PlaceOrderInput }>

/**
 * A historical order recorded with its given number and date (placeOrders(mode: IMPORT)):
 * `input` carries orderNumber and placedAt, checked by decide as PlaceOrder's input is.
 */
export type ImportOrder = Command<'ImportOrder', { readonly orderId: string, readonly owner: string, readonly input: PlaceOrderInput, readonly options: ImportOptions }>

/**
 * The placement of an order that FAILED for stock runs again (retryBulk reopened its operation):
 * the order is placed again and its stock decided again, against the stock as it is now.
 */
export type RetryPlacement = Command<'RetryPlacement', Nothing>

/** The inventory streams reserved the order's stock lines (stockLines(order)), all of them. */
export type RecordStockReserved = Command<'RecordStockReserved', Nothing>
/** The inventory streams could not reserve every line: nothing was reserved, the placement fails. */
export type RecordStockShortage = Command<'RecordStockShortage', { readonly code: StockFailureCode, readonly shortages: readonly StockShortage[] }>

/** The provider captured the order total. */
export type RecordPaymentCaptured = Command<'RecordPaymentCaptured', { readonly paymentId: string }>
/** The provider declined the payment for good (not a transient failure): the order is canceled. */
export type RecordPaymentDeclined = Command<'RecordPaymentDeclined', { readonly reason: string }>

export type RecordInvoiceCreated = Command<'RecordInvoiceCreated', { readonly invoiceNumber: string }>
export type RecordInvoiceEmailed = Command<'RecordInvoiceEmailed', { readonly messageId: string }>
export type RecordShipmentCreated = Command<'RecordShipmentCreated', { readonly shipmentId: string, readonly carrier: string, readonly trackingNumber: string }>
export type RecordShippingLabelPrinted = Command<'RecordShippingLabelPrinted', { readonly labelRef: string }>
export type RecordTrackingUpdated = Command<'RecordTrackingUpdated', { readonly status: string }>
export type RecordShippingEmailSent = Command<'RecordShippingEmailSent', { readonly messageId: string }>
export type RecordOrderExportedToErp = Command<'RecordOrderExportedToErp', { readonly erpReference: string }>

/** Completes the order once every step is done. */
export type CompleteOrder = Command<'CompleteOrder', Nothing>
/** Cancels the order on request, at any time before it is completed. */
export type CancelOrder = Command<'CancelOrder', Nothing>

/**
 * The give-up timer of a step that gave up at `failedAt` ran out (ORDER_GIVE_UP_AFTER_SECONDS): the
 * order is canceled, if that step is still given up since then and its stock has not shipped.
 */
export type GiveUpOrder = Command<'GiveUpOrder', { readonly step: OrderStep, readonly failedAt: string }>

/** The capture step of an order canceled mid-payment found no capture under its key: none will come. */
export type RecordCaptureRuledOut = Command<'RecordCaptureRuledOut', Nothing>

/** Compensations of a canceled order. */
export type RecordStockReleased = Command<'RecordStockReleased', Nothing>
export type RecordPaymentRefunded = Command<'RecordPaymentRefunded', { readonly refundId: string }>
export type RecordCancellationEmailed = Command<'RecordCancellationEmailed', { readonly messageId: string }>

/** An attempt of a step or compensation failed (transiently, or for good when `final`). */
export type RecordStepFailed = Command<'RecordStepFailed', { readonly step: string, readonly attempt: number, readonly error: string, readonly final: boolean }>
/** A step or compensation that was given up on is tried again (retryOrder), once its outside system is fixed. */
export type RecordStepRetried = Command<'RecordStepRetried', { readonly step: OrderStep | Compensation }>

export type OrderCommand =
  | PlaceOrder
  | ImportOrder
  | RetryPlacement
  | RecordStockReserved
  | RecordStockShortage
  | RecordPaymentCaptured
  | RecordPaymentDeclined
  | RecordInvoiceCreated
  | RecordInvoiceEmailed
  | RecordShipmentCreated
  | RecordShippingLabelPrinted
  | RecordTrackingUpdated
  | RecordShippingEmailSent
  | RecordOrderExportedToErp
  | CompleteOrder
  | CancelOrder
  | GiveUpOrder
  | RecordCaptureRuledOut
  | RecordStockReleased
  | RecordPaymentRefunded
  | RecordCancellationEmailed
  | RecordStepFailed
  | RecordStepRetried
