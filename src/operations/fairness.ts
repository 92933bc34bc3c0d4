import type pg from 'pg'
import { run } from '../platform/db/pool.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from './errors.ts'
import { countOpenBulks, lockOwnerBulks } from './sql/fairness.ts'

/**
 * Fairness between owners (issue 15, part 1), with pg-boss 12's own means: every operation job is
 * in its owner's group (`group.id`), and the operation workers fetch with `groupConcurrency`, so one
 * owner's jobs never hold more than their share of the workers, across every process; a bulk of one
 * operation is sent with a higher `priority`, so a single order is fetched before the items of any
 * bulk already waiting. What an owner may have open at once is checked at acceptance.
 */
export interface FairnessOptions {
  /**
   * `OWNER_MAX_OPERATIONS_IN_FLIGHT`, default 1000 (two placement batches): operation jobs of one
   * owner running at once on each operation topic, across all workers (pg-boss groupConcurrency).
   * 0: no limit.
   */
  readonly maxOperationsInFlight: number
  /**
   * `OWNER_MAX_OPEN_BULKS`, default 0 (no limit): unfinished bulks of more than one operation an
   * owner may have; one more is refused with TOO_MANY_OPEN_BULKS, and nothing of it is written
   * (as Shopify limits concurrent bulk operations per shop). Bulks of one operation never count.
   */
  readonly maxOpenBulks: number
  /** `SINGLE_OPERATIONS_FIRST`, default true: jobs of bulks of one operation go ahead of bulk items. */
  readonly singleOperationsFirst: boolean
}

export const DEFAULT_FAIRNESS: FairnessOptions = Object.freeze({ maxOperationsInFlight: 1000, maxOpenBulks: 0, singleOperationsFirst: true })

/**
 * `BULK_CHUNK_SIZE`, default 500: operations one job of a bulk carries (issue 17, item 1), as many as
 * a placement worker settles in one transaction. Capped by WORKER_BATCH_SIZE when that is set.
 */
export const DEFAULT_CHUNK_SIZE = 500

/** pg-boss job priorities of operation jobs: higher is fetched first. */
export const JOB_PRIORITY = Object.freeze({
  /** An item of a bulk of several operations. */
  BULK_ITEM: 0,
  /** The one operation of a bulk of one (placeOrder, cancelOrder, …). */
  SINGLE: 10,
  /**
   * A job carrying a chunk of a bulk's operations (issue 17, item 1). Below every job of one
   * operation: the chunks have workers of their own, which fetch only jobs of this priority or lower
   * (pg-boss `maxPriority`), one at a time; the others fetch from BULK_ITEM up (`minPriority`).
   */
  CHUNK: -1
} as const)

/** The priority of the jobs of a bulk of `operationCount` operations (Infinity: more than fit one chunk). */
export function jobPriority (options: FairnessOptions, operationCount: number): number {
  return options.singleOperationsFirst && operationCount === 1 ? JOB_PRIORITY.SINGLE : JOB_PRIORITY.BULK_ITEM
}

/**
 * The groupConcurrency of the chunk workers: chunks of one owner running at once, so that they hold
 * about `maxOperationsInFlight` operations (at least one chunk). Undefined: no limit.
 */
export function chunkGroupConcurrency (maxOperationsInFlight: number | undefined, chunkSize: number): number | undefined {
  return maxOperationsInFlight === undefined ? undefined : Math.max(1, Math.floor(maxOperationsInFlight / chunkSize))
}

/** The pg-boss group of an owner's operation jobs: what groupConcurrency limits. */
export function jobGroup (owner: string): { id: string } {
  return { id: owner }
}

/**
 * Refuses a bulk of more than one operation when its owner already has `maxOpenBulks` unfinished;
 * inside the acceptance transaction, which it serializes per owner only when a limit is set.
 */
export async function admitBulk (client: pg.PoolClient, options: FairnessOptions, owner: string, bulkUuid: string, operationCount: number): Promise<void> {
  if (options.maxOpenBulks === 0 || operationCount <= 1) return
  await run(client, lockOwnerBulks(owner))
  const [row] = await run<{ open: number }>(client, countOpenBulks(owner, bulkUuid))
  if (row!.open >= options.maxOpenBulks) {
    throw new RequestRejectedError(REQUEST_ERROR_CODE.TOO_MANY_OPEN_BULKS,
      `${row!.open} bulk(s) of this caller are still running, and at most ${options.maxOpenBulks} may be (OWNER_MAX_OPEN_BULKS); wait for one to finish, or send orders one at a time`)
  }
}
