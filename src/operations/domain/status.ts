/**
 * Operation statuses, stored as text in `operation.status` (see migrations/0001) and exposed
 * as the GraphQL enum OperationStatus. Magento's numeric codes, for reference: COMPLETE 1,
 * RETRIABLY_FAILED 2, NOT_RETRIABLY_FAILED 3, OPEN 4, REJECTED 5.
 */
export const OPERATION_STATUS = Object.freeze({
  /**
   * Accepted and not finished: waiting or running. An operation is written when an attempt ends, so a
   * running one keeps the status it had (a retry runs RETRIABLY_FAILED), except exports, which record their start.
   */
  OPEN: 'OPEN',
  COMPLETE: 'COMPLETE',
  /** Failed; a retry is scheduled. */
  RETRIABLY_FAILED: 'RETRIABLY_FAILED',
  /** Failed for good: a permanent error, or retries used up. */
  NOT_RETRIABLY_FAILED: 'NOT_RETRIABLY_FAILED',
  /** Invalid at acceptance; never enqueued. */
  REJECTED: 'REJECTED',
  /** Its bulk was canceled before the operation began. */
  CANCELED: 'CANCELED',
  /** Its bulk's notAfter deadline passed before the operation began (or before its retry): never run. */
  EXPIRED: 'EXPIRED'
} as const)
export type OperationStatus = (typeof OPERATION_STATUS)[keyof typeof OPERATION_STATUS]

/**
 * Bulk statuses are derived from the counts, never stored: the `bulk_summary` view computes them
 * (migrations/0005), exactly, unlike Magento's, which counts OPEN operations as processed (#36911):
 * NOT_STARTED until an operation has begun (its start is known when its attempt ends, an export's as it
 * begins); IN_PROGRESS while any is OPEN or RETRIABLY_FAILED;
 * once all are final, CANCELED if any was canceled, else FINISHED_SUCCESSFULLY if all are
 * COMPLETE, else FINISHED_WITH_FAILURE (EXPIRED operations included).
 */
export const BULK_STATUS = Object.freeze({
  NOT_STARTED: 'NOT_STARTED',
  IN_PROGRESS: 'IN_PROGRESS',
  FINISHED_SUCCESSFULLY: 'FINISHED_SUCCESSFULLY',
  FINISHED_WITH_FAILURE: 'FINISHED_WITH_FAILURE',
  CANCELED: 'CANCELED'
} as const)
export type BulkStatus = (typeof BULK_STATUS)[keyof typeof BULK_STATUS]

export interface OperationCounts {
  readonly open: number
  readonly complete: number
  readonly retriablyFailed: number
  readonly notRetriablyFailed: number
  readonly rejected: number
  readonly canceled: number
  readonly expired: number
}

/** A bulk whose operations are all final. */
export function isFinished (status: BulkStatus): boolean {
  return status !== BULK_STATUS.NOT_STARTED && status !== BULK_STATUS.IN_PROGRESS
}

/** Machine-readable codes stored in `operation.error_code`. */
export const OPERATION_ERROR_CODE = Object.freeze({
  /** The item failed validation at acceptance. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A transient failure (lost connection, serialization failure, deadlock); retried. */
  TRANSIENT_FAILURE: 'TRANSIENT_FAILURE',
  /** Transient failures until the topic's retry limit was used up. */
  RETRIES_EXHAUSTED: 'RETRIES_EXHAUSTED',
  /** The job ran out of time or its worker died, and no retries were left. */
  EXPIRED: 'EXPIRED',
  /** A failure that retrying cannot fix. */
  PERMANENT_FAILURE: 'PERMANENT_FAILURE',
  /** The bulk was canceled before the operation began. */
  CANCELED: 'CANCELED',
  /** An EXPIRED operation: its bulk's notAfter passed before a worker began it. */
  DEADLINE_PASSED: 'DEADLINE_PASSED'
} as const)
