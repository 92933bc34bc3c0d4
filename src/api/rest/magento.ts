import { ROLE, type Role } from '../../access/principal.ts'
import { INVENTORY_ERROR_CODE } from '../../inventory/domain/errors.ts'
import { STOCK_FAILURE_CODE } from '../../inventory/domain/stock.ts'
import { OPERATION_ERROR_CODE, type OperationStatus } from '../../operations/domain/status.ts'
import { ORDER_ERROR_CODE } from '../../orders/domain/errors.ts'

/**
 * Magento's numeric operation statuses (lib/internal/Magento/Framework/Bulk/OperationInterface.php),
 * and 6 for CANCELED, which Magento does not have (an operation of a bulk canceled before it began).
 * Unlike Magento's, RETRIABLY_FAILED (2) is not final here: a retry is scheduled and runs by itself.
 */
export const MAGENTO_OPERATION_STATUS = Object.freeze({
  COMPLETE: 1,
  RETRIABLY_FAILED: 2,
  NOT_RETRIABLY_FAILED: 3,
  OPEN: 4,
  REJECTED: 5,
  /** Ours: Magento has no canceled operation. */
  CANCELED: 6,
  /** Ours: not begun by its bulk's notAfter deadline, never run. */
  EXPIRED: 7
} as const satisfies Record<OperationStatus, number>)

/** Our operation status of a Magento number, or undefined. */
export function operationStatusOf (magento: number): OperationStatus | undefined {
  return (Object.keys(MAGENTO_OPERATION_STATUS) as OperationStatus[]).find(status => MAGENTO_OPERATION_STATUS[status] === magento)
}

/** Magento's user types (BulkSummaryInterface's user_type); guests (4) never start a bulk here. */
export const MAGENTO_USER_TYPE = Object.freeze({
  [ROLE.INTEGRATION]: 1,
  [ROLE.ADMIN]: 2,
  [ROLE.CUSTOMER]: 3
} as const satisfies Record<Role, number>)

/**
 * `error_code` is an integer in Magento's responses: each of our error codes has a number of its
 * own (docs/magento-rest.md lists them), and its name is in the detailed status's
 * `extension_attributes.error`. A code not listed here answers 0, as Magento's generic failures do.
 */
export const MAGENTO_ERROR_CODE: Readonly<Record<string, number>> = Object.freeze({
  // src/operations/domain/status.ts: acceptance and the runner
  [OPERATION_ERROR_CODE.INVALID_INPUT]: 100,
  [OPERATION_ERROR_CODE.TRANSIENT_FAILURE]: 101,
  [OPERATION_ERROR_CODE.RETRIES_EXHAUSTED]: 102,
  [OPERATION_ERROR_CODE.EXPIRED]: 103,
  [OPERATION_ERROR_CODE.PERMANENT_FAILURE]: 104,
  [OPERATION_ERROR_CODE.CANCELED]: 105,
  [OPERATION_ERROR_CODE.DEADLINE_PASSED]: 106,
  // src/orders/domain/errors.ts, and the cancellation or retry of an order whose placement failed
  [ORDER_ERROR_CODE.INVALID_ORDER]: 200,
  [ORDER_ERROR_CODE.ORDER_ALREADY_EXISTS]: 201,
  [ORDER_ERROR_CODE.ORDER_NOT_FOUND]: 202,
  [ORDER_ERROR_CODE.STEP_OUT_OF_ORDER]: 203,
  [ORDER_ERROR_CODE.STEP_ALREADY_SETTLED]: 204,
  [ORDER_ERROR_CODE.STEPS_PENDING]: 205,
  [ORDER_ERROR_CODE.ORDER_CANCELED]: 206,
  [ORDER_ERROR_CODE.ORDER_COMPLETED]: 207,
  [ORDER_ERROR_CODE.ORDER_FAILED]: 208,
  [ORDER_ERROR_CODE.ORDER_NOT_CANCELED]: 209,
  [ORDER_ERROR_CODE.COMPENSATION_NOT_NEEDED]: 210,
  ORDER_NOT_PLACED: 211,
  [ORDER_ERROR_CODE.ORDER_SHIPPED]: 212,
  [ORDER_ERROR_CODE.DUPLICATE_ORDER_NUMBER]: 213,
  // src/inventory/domain/errors.ts and stock.ts (a placement's shortage)
  [INVENTORY_ERROR_CODE.UNKNOWN_SKU]: 300,
  [INVENTORY_ERROR_CODE.INSUFFICIENT_STOCK]: 301,
  [INVENTORY_ERROR_CODE.INVALID_QUANTITY]: 302,
  [INVENTORY_ERROR_CODE.NEGATIVE_STOCK]: 303,
  [INVENTORY_ERROR_CODE.RELEASE_EXCEEDS_RESERVED]: 304,
  [STOCK_FAILURE_CODE.OUT_OF_STOCK]: 305,
  [INVENTORY_ERROR_CODE.SHIPMENT_EXCEEDS_RESERVED]: 306
})

/** The number of an error code (null for none). */
export function magentoErrorCode (code: string | null): number | null {
  return code === null ? null : MAGENTO_ERROR_CODE[code] ?? 0
}

/** Magento's request item statuses (ItemStatusInterface). */
export const MAGENTO_ITEM_STATUS = Object.freeze({ ACCEPTED: 'accepted', REJECTED: 'rejected' } as const)

/** A time as Magento writes it: `2018-07-12 16:07:53`, UTC. */
export function magentoTime (time: Date): string {
  return time.toISOString().slice(0, 19).replace('T', ' ')
}
