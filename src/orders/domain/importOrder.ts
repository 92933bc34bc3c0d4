/**
 * Imports of historical orders (issue 15, part 4): placeOrders(mode: IMPORT) records orders with
 * the numbers and dates they had in the system they come from. What an import item must carry
 * beyond a PlaceOrderInput, and which steps an imported order does not run, with the reason its
 * order view shows. Pure: no I/O.
 */
import { IMPORT_STOCK, type ImportOptions, type OrderEvent } from './events.ts'
import { ORDER_STEP, type Order, type OrderStep } from './order.ts'
import type { PlaceOrderInput, Validation } from './placeOrder.ts'

/** An import item as stored in its operation: the order as sent, and the request's import options. */
export interface ImportItem extends PlaceOrderInput {
  readonly orderNumber: string
  readonly placedAt: string
  readonly importOptions: ImportOptions
}

/**
 * The number of an imported order: 1 to 40 letters, digits and `. _ / # -`, starting with a letter,
 * a digit or `#` (Magento's 000000123, Shopify's #1001, SO-2019/77).
 */
export const IMPORTED_ORDER_NUMBER = /^[A-Za-z0-9#][A-Za-z0-9._/#-]{0,39}$/
/** The gateway's own numbers (order_number(), migrations/0010): drawn by the gateway, never imported. */
export const GATEWAY_ORDER_NUMBER = /^ORD-\d{8,}$/
/** A date-time as RFC 3339 writes it, with its offset (what the DateTime scalar takes). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** Why the fields an import adds are wrong (orderNumber, placedAt), or ok. `now` is the acceptance's clock. */
export function validateImport (input: PlaceOrderInput, now: Date): Validation {
  const problems: string[] = []
  const { orderNumber, placedAt } = input
  if (orderNumber == null) problems.push('orderNumber is required with mode: IMPORT (the number the order had)')
  else if (GATEWAY_ORDER_NUMBER.test(orderNumber)) problems.push(`orderNumber must not look like the gateway's own numbers (ORD- and 8 or more digits), got "${orderNumber}"`)
  else if (!IMPORTED_ORDER_NUMBER.test(orderNumber)) problems.push(`orderNumber must be 1 to 40 letters, digits or . _ / # - (starting with a letter, a digit or #), got "${orderNumber.slice(0, 40)}"`)
  if (placedAt == null) problems.push('placedAt is required with mode: IMPORT (when the order was placed)')
  else if (!DATE_TIME.test(placedAt) || Number.isNaN(Date.parse(placedAt))) problems.push(`placedAt must be a date-time such as 2019-05-17T10:00:00Z, got "${placedAt.slice(0, 40)}"`)
  else if (Date.parse(placedAt) > now.getTime()) problems.push(`placedAt must not be in the future, got ${placedAt}`)
  return problems.length === 0 ? { ok: true } : { ok: false, message: problems.join('; ') }
}

/** Why a placement (mode: PLACE) item must not carry the fields of an import, or null. */
export function importFieldsProblem (input: PlaceOrderInput): string | null {
  const given = (['orderNumber', 'placedAt'] as const).filter(field => input[field] != null)
  return given.length === 0 ? null : `${given.join(' and ')} ${given.length === 1 ? 'is' : 'are'} taken only with mode: IMPORT; a placed order gets its number and date from the gateway`
}

/** Why each step an imported order does not run is skipped, as its view shows it. */
export const IMPORT_SKIP_REASON = Object.freeze({
  reserveStock: 'imported: stock not touched (stock: SKIP)',
  capturePayment: 'imported: paid outside the gateway',
  createInvoice: 'imported: invoiced outside the gateway',
  emailInvoice: 'imported: no customer email',
  createShipment: 'imported: shipped outside the gateway',
  printShippingLabel: 'imported: no shipping label',
  updateTracking: 'imported: no carrier tracking',
  emailShipping: 'imported: no customer email',
  exportToErp: 'imported with exportToErp: false'
} as const satisfies Record<OrderStep, string>)

function skip (step: OrderStep, at: string): OrderEvent {
  return { type: 'StepSkipped', data: { step, reason: IMPORT_SKIP_REASON[step], skippedAt: at } }
}

/** The stock step of an import, right after OrderImported: skipped, or left to the placement (DEDUCT). */
export function importStockSkips (options: ImportOptions, at: string): OrderEvent[] {
  return options.stock === IMPORT_STOCK.SKIP ? [skip(ORDER_STEP.RESERVE_STOCK, at)] : []
}

/**
 * The rest of an import, once its stock is settled (skipped, or deducted): every step but the ERP
 * export is skipped (it runs unless exportToErp is false). With DEDUCT they follow StockReserved
 * and StockShipped (decide.ts): the units leave at once, since the shipment is skipped.
 */
export function importSkips (order: Order, at: string): OrderEvent[] {
  const options = order.imported!
  const steps: OrderStep[] = [ORDER_STEP.CAPTURE_PAYMENT, ORDER_STEP.CREATE_INVOICE, ORDER_STEP.EMAIL_INVOICE, ORDER_STEP.CREATE_SHIPMENT,
    ORDER_STEP.PRINT_SHIPPING_LABEL, ORDER_STEP.UPDATE_TRACKING, ORDER_STEP.EMAIL_SHIPPING, ...(options.exportToErp ? [] : [ORDER_STEP.EXPORT_TO_ERP])]
  return steps.filter(step => order.done[step] === undefined).map(step => skip(step, at))
}
