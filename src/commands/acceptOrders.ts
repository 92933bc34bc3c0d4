import { createHash, randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { insertBulk, insertOperations, type NewOperation } from '../bulks/queries.ts'
import { bossDb, run, transaction } from '../db/pool.ts'
import { canonicalJson } from '../domain/canonicalJson.ts'
import { OPERATION_ERROR_CODE, OPERATION_STATUS } from '../domain/bulk/status.ts'
import { validatePlaceOrder, type PlaceOrderInput } from '../domain/order/placeOrder.ts'
import { TOPICS } from '../jobs/topology.ts'

export const REQUEST_ITEM_STATUS = Object.freeze({ ACCEPTED: 'ACCEPTED', REJECTED: 'REJECTED' } as const)
export type RequestItemStatus = (typeof REQUEST_ITEM_STATUS)[keyof typeof REQUEST_ITEM_STATUS]

export interface RequestItem {
  /** The item's index in the request. */
  readonly id: number
  /** SHA-256 of the item as submitted, serialized as JSON with sorted keys. */
  readonly dataHash: string
  readonly status: RequestItemStatus
  readonly errorMessage: string | null
}

/** What an accepting mutation answers at once (Magento's AsyncResponseInterface). */
export interface AsyncResponse {
  readonly bulkUuid: string
  readonly requestItems: readonly RequestItem[]
  /** True when any item was rejected. */
  readonly errors: boolean
}

/** A request that cannot be accepted at all; nothing of it is written. */
export class RequestRejectedError extends Error {
  override name = 'RequestRejectedError'
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

export interface AcceptDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly maxBulkSize: number
  /** Called after commit with the number of jobs enqueued (statistics upkeep). */
  readonly afterEnqueue?: (jobs: number) => void
}

/** Rows per statement: bounds statement size and memory however large the bulk. */
const CHUNK = 5000

/**
 * Accepts order placements as one bulk, in one transaction: the bulk row, an operation per item
 * (REJECTED with a message for invalid ones), and a pg-boss job per accepted item, enqueued
 * through the same transaction. All of it commits, or none of it.
 */
export async function acceptOrders (deps: AcceptDeps, inputs: readonly PlaceOrderInput[], description: string | null): Promise<AsyncResponse> {
  if (inputs.length === 0) throw new RequestRejectedError('EMPTY_BULK', 'input must contain at least one order')
  if (inputs.length > deps.maxBulkSize) {
    throw new RequestRejectedError('BULK_TOO_LARGE', `input has ${inputs.length} orders; at most ${deps.maxBulkSize} are accepted in one request`)
  }
  const topic = TOPICS.placeOrder.queue
  const operations: NewOperation[] = inputs.map((input, index) => {
    const validation = validatePlaceOrder(input)
    return {
      id: randomUUID(),
      index,
      topic,
      status: validation.ok ? OPERATION_STATUS.OPEN : OPERATION_STATUS.REJECTED,
      data: input,
      dataHash: createHash('sha256').update(canonicalJson(input)).digest('hex'),
      errorCode: validation.ok ? null : OPERATION_ERROR_CODE.INVALID_INPUT,
      message: validation.ok ? null : validation.message
    }
  })
  const accepted = operations.filter(op => op.status === OPERATION_STATUS.OPEN)
  const bulkUuid = randomUUID()

  await transaction(deps.pool, async (client) => {
    await run(client, insertBulk(bulkUuid, description, operations.length))
    for (let at = 0; at < operations.length; at += CHUNK) {
      await run(client, insertOperations(bulkUuid, operations.slice(at, at + CHUNK)))
    }
    for (let at = 0; at < accepted.length; at += CHUNK) {
      await deps.boss.insert(topic, accepted.slice(at, at + CHUNK).map(op => ({ id: op.id, data: { operationId: op.id } })), { db: bossDb(client) })
    }
  })
  if (accepted.length > 0) deps.afterEnqueue?.(accepted.length)

  const requestItems = operations.map(op => ({
    id: op.index,
    dataHash: op.dataHash,
    status: op.status === OPERATION_STATUS.OPEN ? REQUEST_ITEM_STATUS.ACCEPTED : REQUEST_ITEM_STATUS.REJECTED,
    errorMessage: op.message
  }))
  return { bulkUuid, requestItems, errors: accepted.length < operations.length }
}
