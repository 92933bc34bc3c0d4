/**
 * The inventory aggregate: one stream per SKU (`inventory-<sku>`) holding its stock as counters.
 * Pure: no I/O.
 *
 * Why a stream per SKU, and not one reservation stream per order: the rule to keep is "never hold
 * more units of a SKU than it has", and it can only be checked where the SKU's units are counted.
 * A stream per order could not see the other orders' reservations. With a stream per SKU, two
 * orders for different SKUs never conflict, and two for the same SKU are serialized by the
 * stream's expected version (the loser loads again and decides again).
 *
 * An order's reservation is all-or-nothing across its SKUs: planReservation decides every SKU's
 * reservation from their states first, and the caller appends to all the SKU streams (in SKU
 * order, so that two placements lock the same rows in the same order and cannot deadlock) and to
 * the order stream in one transaction; any conflict rolls back all of it. So no partly reserved
 * order ever exists, and a shortage reserves nothing and needs no compensation.
 *
 * Reserving, releasing and shipping for an order happen once because the order stream says so, in
 * the same transaction (its reserveStock and createShipment steps and its releaseStock compensation
 * are recorded once); a SKU's
 * state therefore counts units and does not keep a list of orders, which would grow with every
 * order ever placed. Known cost: a hot SKU's stream grows with its orders; a snapshot (the
 * inventory read model, updated in the same transaction with the stream version) will spare
 * folding it from the start each time.
 */
import { STOCK_FAILURE_CODE, stockLines, type StockFailureCode, type StockLine, type StockShortage } from './stock.ts'
import type { InventoryCommand } from './commands.ts'
import { INVENTORY_ERROR_CODE, InventoryError } from './errors.ts'
import type { InventoryEvent } from './events.ts'

/** A SKU's stream in the event store. */
export function inventoryStreamId (sku: string): string {
  return `inventory-${sku}`
}

/** Largest change one command may make, so that sums stay exact in a JS number and an int8. */
export const MAX_STOCK_CHANGE = 1_000_000_000

/**
 * A SKU's units. On hand (in the warehouse) is `available + reserved`; `shipped` units have left
 * it for orders. So on hand + shipped = the sum of the adjustments, whatever orders did.
 */
export interface InventoryState {
  /** Whether any adjustment created the SKU. An unknown SKU cannot be reserved. */
  readonly known: boolean
  /** Units on hand that may still be reserved. */
  readonly available: number
  /** Units on hand held by orders (neither given back nor shipped). */
  readonly reserved: number
  /** Units that left the warehouse with orders' shipments (streams before issue 13 have none). */
  readonly shipped: number
}

export function initialState (): InventoryState {
  return { known: false, available: 0, reserved: 0, shipped: 0 }
}

/** Units in the warehouse: available and reserved. */
export function onHand (state: InventoryState): number {
  return state.available + state.reserved
}

/** The time an inventory event records, from its own data. */
export function inventoryEventTime (event: InventoryEvent): string {
  switch (event.type) {
    case 'InventoryAdjusted': return event.data.adjustedAt
    case 'InventoryReserved': return event.data.reservedAt
    case 'InventoryReleased': return event.data.releasedAt
    case 'InventoryShipped': return event.data.shippedAt
    default: {
      const unknown: never = event
      throw new TypeError(`unknown inventory event ${(unknown as { type?: unknown }).type}`)
    }
  }
}

function checkQuantity (sku: string, quantity: number, min: number): void {
  if (!Number.isSafeInteger(quantity) || quantity < min || Math.abs(quantity) > MAX_STOCK_CHANGE) {
    throw new InventoryError(INVENTORY_ERROR_CODE.INVALID_QUANTITY, sku,
      `quantity of ${sku} must be a whole number from ${min} to ${MAX_STOCK_CHANGE}, got ${quantity}`)
  }
}

export function decide (command: InventoryCommand, state: InventoryState): InventoryEvent[] {
  const at = command.now.toISOString()
  switch (command.type) {
    case 'AdjustStock': {
      const { sku, quantity } = command.data
      checkQuantity(sku, quantity, -MAX_STOCK_CHANGE)
      if (quantity === 0 && state.known) return []
      if (state.available + quantity < 0) {
        throw new InventoryError(INVENTORY_ERROR_CODE.NEGATIVE_STOCK, sku,
          `${sku} has ${state.available} units available (${state.reserved} more are reserved), so ${quantity} cannot be applied`)
      }
      return [{ type: 'InventoryAdjusted', data: { sku, quantity, adjustedAt: at } }]
    }
    case 'ReserveStock': {
      const { sku, orderId, quantity } = command.data
      checkQuantity(sku, quantity, 1)
      if (!state.known) throw new InventoryError(INVENTORY_ERROR_CODE.UNKNOWN_SKU, sku, `unknown SKU ${sku}`)
      if (state.available < quantity) {
        throw new InventoryError(INVENTORY_ERROR_CODE.INSUFFICIENT_STOCK, sku, `${sku} has ${state.available} units available, ${quantity} asked`)
      }
      return [{ type: 'InventoryReserved', data: { sku, orderId, quantity, reservedAt: at } }]
    }
    case 'ReleaseStock': {
      const { sku, orderId, quantity } = command.data
      checkQuantity(sku, quantity, 1)
      if (!state.known) throw new InventoryError(INVENTORY_ERROR_CODE.UNKNOWN_SKU, sku, `unknown SKU ${sku}`)
      if (state.reserved < quantity) {
        throw new InventoryError(INVENTORY_ERROR_CODE.RELEASE_EXCEEDS_RESERVED, sku, `${sku} has ${state.reserved} units reserved, ${quantity} to release`)
      }
      return [{ type: 'InventoryReleased', data: { sku, orderId, quantity, releasedAt: at } }]
    }
    case 'ShipStock': {
      const { sku, orderId, quantity } = command.data
      checkQuantity(sku, quantity, 1)
      if (!state.known) throw new InventoryError(INVENTORY_ERROR_CODE.UNKNOWN_SKU, sku, `unknown SKU ${sku}`)
      if (state.reserved < quantity) {
        throw new InventoryError(INVENTORY_ERROR_CODE.SHIPMENT_EXCEEDS_RESERVED, sku, `${sku} has ${state.reserved} units reserved, ${quantity} to ship`)
      }
      return [{ type: 'InventoryShipped', data: { sku, orderId, quantity, shippedAt: at } }]
    }
    default: {
      const unknown: never = command
      throw new TypeError(`unknown inventory command ${(unknown as { type?: unknown }).type}`)
    }
  }
}

export function evolve (state: InventoryState, event: InventoryEvent): InventoryState {
  switch (event.type) {
    case 'InventoryAdjusted':
      return { ...state, known: true, available: state.available + event.data.quantity }
    case 'InventoryReserved':
      return { ...state, available: state.available - event.data.quantity, reserved: state.reserved + event.data.quantity }
    case 'InventoryReleased':
      return { ...state, available: state.available + event.data.quantity, reserved: state.reserved - event.data.quantity }
    case 'InventoryShipped':
      return { ...state, reserved: state.reserved - event.data.quantity, shipped: state.shipped + event.data.quantity }
    default: {
      const unknown: never = event
      throw new TypeError(`unknown inventory event ${(unknown as { type?: unknown }).type}`)
    }
  }
}

export type ReservationPlan =
  /** Every SKU can be reserved: the events to append to each SKU's stream, in SKU order. */
  | { readonly ok: true, readonly appends: ReadonlyArray<{ readonly sku: string, readonly events: readonly InventoryEvent[] }> }
  /** Some cannot: nothing is to be reserved; the order records StockReservationFailed with these. */
  | { readonly ok: false, readonly code: StockFailureCode, readonly shortages: readonly StockShortage[] }

/**
 * An order's reservation, all-or-nothing: `lines` are added up per SKU; `stock` holds each SKU's
 * state as folded from its stream (a SKU missing from it is unknown). Every shortage is reported,
 * not only the first; UNKNOWN_SKU is the code when any SKU is unknown, else OUT_OF_STOCK.
 */
export function planReservation (orderId: string, lines: readonly StockLine[], stock: ReadonlyMap<string, InventoryState>, now: Date): ReservationPlan {
  const needs = stockLines({ lines })
  const shortages: StockShortage[] = []
  let unknownSku = false
  for (const { sku, quantity } of needs) {
    const state = stock.get(sku) ?? initialState()
    if (!state.known) unknownSku = true
    if (!state.known || state.available < quantity) shortages.push({ sku, requested: quantity, available: state.known ? state.available : 0 })
  }
  if (shortages.length > 0) {
    return { ok: false, code: unknownSku ? STOCK_FAILURE_CODE.UNKNOWN_SKU : STOCK_FAILURE_CODE.OUT_OF_STOCK, shortages }
  }
  return {
    ok: true,
    appends: needs.map(({ sku, quantity }) => ({
      sku,
      events: decide({ type: 'ReserveStock', data: { sku, orderId, quantity }, now }, stock.get(sku)!)
    }))
  }
}
