/** Why the inventory of a SKU refuses a command. Pure: no I/O. */
export const INVENTORY_ERROR_CODE = Object.freeze({
  /** Reserving or releasing a SKU that no adjustment ever created. */
  UNKNOWN_SKU: 'UNKNOWN_SKU',
  /** Reserving more than is available. */
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  /** A quantity that is not a whole number in range (above 0 to reserve or release). */
  INVALID_QUANTITY: 'INVALID_QUANTITY',
  /** An adjustment that would take the available units below 0 (reserved units cannot be taken away). */
  NEGATIVE_STOCK: 'NEGATIVE_STOCK',
  /** Releasing more units than are reserved. */
  RELEASE_EXCEEDS_RESERVED: 'RELEASE_EXCEEDS_RESERVED',
  /** Shipping more units than are reserved (only reserved units are shipped). */
  SHIPMENT_EXCEEDS_RESERVED: 'SHIPMENT_EXCEEDS_RESERVED'
} as const)
export type InventoryErrorCode = (typeof INVENTORY_ERROR_CODE)[keyof typeof INVENTORY_ERROR_CODE]

export class InventoryError extends Error {
  readonly code: InventoryErrorCode
  readonly sku: string

  constructor (code: InventoryErrorCode, sku: string, message: string) {
    super(message)
    this.name = 'InventoryError'
    this.code = code
    this.sku = sku
  }
}
