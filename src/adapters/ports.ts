/**
 * The ports of the post-order chain (issue 4, "Outside systems behind ports"): what the chain asks
 * of systems it does not own. Each port has a local stand-in (simulator, outbox folder, spool
 * folder, JSONL file) so that the whole chain runs on one machine, and a real transport where one
 * is configured (SMTP, an ERP webhook, a print command). src/adapters/index.ts picks them.
 *
 * Outside effects cannot join the chain's database transaction: a job may die after the effect and
 * before its commit, and run again. So every effectful call carries an idempotency key, and every
 * adapter makes a repeat of the same key answer the first result without repeating the effect.
 */

/** The outside systems, by the names FAULT_RATES and TransientOutsideError use. */
export const OUTSIDE_SYSTEMS = ['payment', 'email', 'erp', 'carrier', 'printer'] as const
export type OutsideSystem = (typeof OUTSIDE_SYSTEMS)[number]

/**
 * Every call carries an idempotency key derived from the order and the step (e.g.
 * `${orderId}:capturePayment`); a second call with the same key must not repeat the effect and
 * must answer the same result. `attempt` is 1 for the first try.
 */
export interface OutsideCall {
  readonly idempotencyKey: string
  readonly attempt: number
  /**
   * The job's abort signal (pg-boss's `job.signal`): aborted when the attempt outlived its expiry or
   * its claim was lost, and on shutdown. An adapter stops waiting and makes no effect once it is
   * aborted, failing with TransientOutsideError (src/adapters/abandon.ts). Absent: never aborted.
   */
  readonly signal?: AbortSignal
}

/**
 * Thrown for a failure worth retrying (provider unavailable, timeout, 5xx, injected fault). Anything
 * else thrown is a bug, or a refusal no retry can change (an ERP answering 400, say).
 */
export class TransientOutsideError extends Error {
  override name = 'TransientOutsideError'
  readonly system: OutsideSystem

  constructor (system: OutsideSystem, message: string, options?: ErrorOptions) {
    super(`${system}: ${message}`, options)
    this.system = system
  }
}

export interface PostalAddress {
  readonly name: string
  readonly street: string
  readonly city: string
  readonly postcode: string
  readonly country: string
}

export type CaptureResult =
  | { readonly outcome: 'captured', readonly paymentId: string }
  | { readonly outcome: 'declined', readonly reason: string }

export interface PaymentProvider {
  /** `amount` is a decimal string with 4 decimals (`"12.5000"`), as orders keep money. */
  capture (call: OutsideCall & { token: string, amount: string, currency: string, orderNumber: string }): Promise<CaptureResult>
  refund (call: OutsideCall & { paymentId: string, amount: string, currency: string }): Promise<{ refundId: string }>
  /**
   * The payment a capture with this idempotency key took, if any; charges nothing. Asked when an
   * order was canceled while its capture was under way (or its answer was lost): money taken must
   * be refunded, and none must be taken anew.
   */
  findCapture (call: { readonly idempotencyKey: string, readonly signal?: AbortSignal }): Promise<{ paymentId: string } | null>
}

export interface MailAttachment {
  readonly filename: string
  readonly content: Buffer
  readonly contentType: string
}

export interface Mailer {
  send (call: OutsideCall & { to: string, subject: string, text: string, attachments?: readonly MailAttachment[] }): Promise<{ messageId: string }>
}

export interface ErpExporter {
  exportOrder (call: OutsideCall & { document: Record<string, unknown> }): Promise<{ erpReference: string }>
}

export interface Shipment {
  readonly shipmentId: string
  readonly carrier: string
  readonly trackingNumber: string
}

export interface Carrier {
  createShipment (call: OutsideCall & { orderNumber: string, address: PostalAddress }): Promise<Shipment>
  trackingStatus (call: OutsideCall & { trackingNumber: string }): Promise<{ status: string }>
}

export interface LabelPrinter {
  printLabel (call: OutsideCall & { orderNumber: string, trackingNumber: string, carrier: string, address: PostalAddress }): Promise<{ labelRef: string }>
}

export interface InvoiceDocument {
  readonly invoiceNumber: string
  readonly orderNumber: string
  readonly customerEmail: string
  readonly currency: string
  /** Decimal strings with 4 decimals, as orders keep money. */
  readonly total: string
  readonly lines: ReadonlyArray<{ readonly sku: string, readonly quantity: number, readonly unitPrice: string }>
  readonly address: PostalAddress
  /** ISO 8601; also the PDF's creation date, so that the same invoice renders the same document. */
  readonly createdAt: string
}

/** Documents made here, not sent anywhere: pure rendering, no idempotency key needed. */
export interface Documents {
  invoicePdf (invoice: InvoiceDocument): Promise<Buffer>
}

export interface OutsideSystems {
  readonly payment: PaymentProvider
  readonly mailer: Mailer
  readonly erp: ErpExporter
  readonly carrier: Carrier
  readonly printer: LabelPrinter
  readonly documents: Documents
  /** Releases connections (an SMTP pool); the adapters may not be used after. */
  close (): Promise<void>
}
