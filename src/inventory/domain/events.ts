/**
 * The events of a SKU's inventory stream (`inventory-<sku>`). Named apart from the order's
 * StockReserved and StockReleased, which say what happened to an order, so that a reader of the
 * whole log never mistakes one for the other. Pure: no I/O.
 */

/** A signed change of the units on hand (`npm run seed`, the adjustStock mutation). The first one creates the SKU. */
export interface InventoryAdjusted {
  readonly type: 'InventoryAdjusted'
  readonly data: { readonly sku: string, readonly quantity: number, readonly adjustedAt: string }
}

/** Units held for an order: no longer available to others. */
export interface InventoryReserved {
  readonly type: 'InventoryReserved'
  readonly data: { readonly sku: string, readonly orderId: string, readonly quantity: number, readonly reservedAt: string }
}

/** Units an order held given back (the order was canceled). */
export interface InventoryReleased {
  readonly type: 'InventoryReleased'
  readonly data: { readonly sku: string, readonly orderId: string, readonly quantity: number, readonly releasedAt: string }
}

/**
 * Units an order held left the warehouse: its shipment was created. They are no longer reserved
 * nor on hand; `shipped` counts them (issue 13, item 2).
 */
export interface InventoryShipped {
  readonly type: 'InventoryShipped'
  readonly data: { readonly sku: string, readonly orderId: string, readonly quantity: number, readonly shippedAt: string }
}

export type InventoryEvent = InventoryAdjusted | InventoryReserved | InventoryReleased | InventoryShipped
