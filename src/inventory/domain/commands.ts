/**
 * The commands of a SKU's inventory. The clock comes in with the command (`now`). Pure: no I/O.
 */

interface Command<Type extends string, Data> {
  readonly type: Type
  readonly data: Data
  readonly now: Date
}

/** Changes the units on hand by a signed `quantity`; a SKU not yet known is created (with 0 too). */
export type AdjustStock = Command<'AdjustStock', { readonly sku: string, readonly quantity: number }>
/** Holds `quantity` units for an order (a placement reserves all its SKUs through planReservation). */
export type ReserveStock = Command<'ReserveStock', { readonly sku: string, readonly orderId: string, readonly quantity: number }>
/** Gives back units an order held (compensation of a canceled order). */
export type ReleaseStock = Command<'ReleaseStock', { readonly sku: string, readonly orderId: string, readonly quantity: number }>
/** The units an order held leave the warehouse: its shipment was created (issue 13, item 2). */
export type ShipStock = Command<'ShipStock', { readonly sku: string, readonly orderId: string, readonly quantity: number }>

export type InventoryCommand = AdjustStock | ReserveStock | ReleaseStock | ShipStock
