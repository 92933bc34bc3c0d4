import { createHash, randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { Role } from '../access/principal.ts'
import { insertBulkWithOperations, insertOperations, setOperationCount, type NewBulk, type NewOperation } from './sql/bulks.ts'
import { bossDb, run, transaction } from '../platform/db/pool.ts'
import { canonicalJson } from './domain/canonicalJson.ts'
import { OPERATION_ERROR_CODE, OPERATION_STATUS } from './domain/status.ts'
import type { BulkKind } from './domain/kind.ts'
import { claimIdempotencyKey, recordIdempotentResponse, selectIdempotencyKey } from './sql/idempotency.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from './errors.ts'
import { admitBulk, DEFAULT_FAIRNESS, jobGroup, jobPriority, type FairnessOptions } from './fairness.ts'

export const REQUEST_ITEM_STATUS = Object.freeze({ ACCEPTED: 'ACCEPTED', REJECTED: 'REJECTED' } as const)
export type RequestItemStatus = (typeof REQUEST_ITEM_STATUS)[keyof typeof REQUEST_ITEM_STATUS]

/** What to do with a bulk that has invalid items (Saleor's errorPolicy). */
export const BULK_ERROR_POLICY = Object.freeze({
  /** Accept the valid items, reject the invalid ones (Magento's behaviour). */
  REJECT_FAILED_ROWS: 'REJECT_FAILED_ROWS',
  /** One invalid item and nothing is written or enqueued. */
  REJECT_EVERYTHING: 'REJECT_EVERYTHING'
} as const)
export type BulkErrorPolicy = (typeof BULK_ERROR_POLICY)[keyof typeof BULK_ERROR_POLICY]

export interface RequestItem {
  /** The item's index in the request. */
  readonly id: number
  /** The order the item is about: the number a placement was given at acceptance, or the one named. */
  orderNumber: string | null
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

/** One item as it arrived: its data, or why its data could not even be read as an order. */
export interface Candidate {
  readonly data: unknown
  /** A structural problem (a JSONL line that is not JSON, a field of the wrong type). */
  readonly problem?: string
}

/**
 * A kind of operation a bulk can carry: its topic, how an item is checked at acceptance, and which
 * order it is about (operations on one order run in the order they were accepted).
 */
export interface OperationKind {
  readonly topic: string
  /** What a bulk of these operations is (Bulk.kind). */
  readonly bulkKind: BulkKind
  /** Why an item cannot be accepted, or null. Runs inside the acceptance transaction, as its owner. */
  readonly check: (data: unknown, db: pg.PoolClient, owner: string | null) => Promise<string | null>
  /** The order the item is about, when it names one. */
  readonly orderingKey: (data: unknown) => string | null
  /** Placements: give the order its number at acceptance. */
  readonly numberOrder: boolean
}

export interface AcceptRequest {
  /** What the items are. */
  readonly kind: OperationKind
  /** Who the bulk belongs to. */
  readonly owner: string
  /** The role the caller has (kept with the bulk: Magento's user_type). */
  readonly ownerRole: Role
  /** The credential that sent it (credentialOf: `token:<id>`, `jwt:<subject>`), shown to admins. */
  readonly createdBy?: string | null
  /** Whose orders the items may name (null: everyone's, for admins). */
  readonly viewerOwner: string | null
  readonly items: Iterable<Candidate> | AsyncIterable<Candidate>
  readonly description: string | null
  readonly notifyUrl: string | null
  readonly errorPolicy: BulkErrorPolicy
  readonly idempotencyKey: string | null
  /** Operations not begun by then end EXPIRED instead of running late (null or absent: no deadline). */
  readonly notAfter?: Date | null
}

export interface AcceptDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly maxBulkSize: number
  /** Per-owner limits and priorities (default DEFAULT_FAIRNESS). */
  readonly fairness?: FairnessOptions
  /** Called after commit with the number of jobs enqueued (statistics upkeep). */
  readonly afterEnqueue?: (jobs: number) => void
}

/** Rows per statement: bounds statement size and memory however large the bulk. */
const CHUNK = 5000

/** Thrown inside the transaction to roll it back and still answer (REJECT_EVERYTHING). */
class RollBack extends Error {
  readonly response: AsyncResponse
  constructor (response: AsyncResponse) {
    super('rolled back')
    this.response = response
  }
}

/**
 * Accepts order placements as one bulk, in one transaction: the bulk row, an operation per item
 * (REJECTED with a message for invalid ones), and a pg-boss job per accepted item, enqueued
 * through the same transaction. All of it commits, or none of it.
 *
 * Items are consumed as they come (a JSONL upload streams) and written in chunks, so memory is
 * bounded by the chunk, not the bulk. With an idempotency key, a repeated request (same key, same
 * payload) gets the first response and enqueues nothing; a racing one waits for the first to
 * commit; the same key with another payload is an IDEMPOTENCY_KEY_REUSED error.
 */
export async function acceptOperations (deps: AcceptDeps, request: AcceptRequest): Promise<AsyncResponse> {
  const topic = request.kind.topic
  const bulkUuid = randomUUID()
  // The request's fingerprint for idempotency: its arguments, then each item's hash in order.
  // notAfter only when given, so that keys recorded before deadlines existed still match.
  const deadline = request.notAfter ? { notAfter: request.notAfter.toISOString() } : {}
  const fingerprint = createHash('sha256').update(canonicalJson({
    topic: request.kind.topic, description: request.description, notifyUrl: request.notifyUrl, errorPolicy: request.errorPolicy, ...deadline
  }))
  let enqueued = 0
  const fairness = deps.fairness ?? DEFAULT_FAIRNESS
  const group = jobGroup(request.owner)

  try {
    const response = await transaction(deps.pool, async (client) => {
      if (request.idempotencyKey !== null) {
        const [claimed] = await run(client, claimIdempotencyKey(request.owner, request.idempotencyKey))
        if (!claimed) return await replay(client, request, fingerprint)
      }
      // The bulk row goes with the first chunk of operations; its count is known then only if that chunk is the last.
      const bulk = (operationCount: number): NewBulk => ({
        uuid: bulkUuid,
        owner: request.owner,
        ownerRole: request.ownerRole,
        description: request.description,
        operationCount,
        notifyUrl: request.notifyUrl,
        kind: request.kind.bulkKind,
        createdBy: request.createdBy ?? null,
        notAfter: request.notAfter ?? null
      })
      let bulkWritten = false
      let countWritten = false

      const requestItems: RequestItem[] = []
      let chunk: NewOperation[] = []
      let invalid = 0
      const flush = async (last: boolean): Promise<void> => {
        if (chunk.length === 0) return
        // The bulk's size: known at its first chunk only when that is its last; larger otherwise.
        const size = bulkWritten || !last ? Number.POSITIVE_INFINITY : requestItems.length
        if (!bulkWritten) await admitBulk(client, fairness, request.owner, bulkUuid, size)
        const insert = bulkWritten ? insertOperations(bulkUuid, chunk) : insertBulkWithOperations(bulk(last ? requestItems.length : 0), chunk)
        countWritten ||= !bulkWritten && last
        bulkWritten = true
        const keys = new Map((await run<{ id: string, ordering_key: string | null }>(client, insert)).map(row => [row.id, row.ordering_key]))
        for (const op of chunk) requestItems[op.index]!.orderNumber = keys.get(op.id) ?? null
        const accepted = chunk.filter(op => op.status === OPERATION_STATUS.OPEN)
        if (accepted.length > 0) {
          const priority = jobPriority(fairness, size)
          await deps.boss.insert(topic, accepted.map(op => ({ id: op.id, data: { operationId: op.id }, group, priority })), { db: bossDb(client) })
          enqueued += accepted.length
        }
        chunk = []
      }

      for await (const candidate of request.items) {
        const index = requestItems.length
        if (index >= deps.maxBulkSize) {
          throw new RequestRejectedError(REQUEST_ERROR_CODE.BULK_TOO_LARGE, `input has more than ${deps.maxBulkSize} orders; at most ${deps.maxBulkSize} are accepted in one request`)
        }
        const problem = candidate.problem ?? await request.kind.check(candidate.data, client, request.viewerOwner)
        const item = itemOf(request.kind, index, candidate.data, problem)
        fingerprint.update(item.operation.dataHash)
        if (problem !== null) invalid++
        chunk.push(item.operation)
        requestItems.push(item.requestItem)
        if (chunk.length >= CHUNK) await flush(false)
      }
      if (requestItems.length === 0) throw new RequestRejectedError(REQUEST_ERROR_CODE.EMPTY_BULK, 'input must contain at least one order')

      if (invalid > 0 && request.errorPolicy === BULK_ERROR_POLICY.REJECT_EVERYTHING) {
        throw new RollBack({
          bulkUuid,
          errors: true,
          requestItems: requestItems.map(item => item.status === REQUEST_ITEM_STATUS.REJECTED
            ? item
            : { ...item, orderNumber: null, status: REQUEST_ITEM_STATUS.REJECTED, errorMessage: `not accepted: ${invalid} other item(s) of this request are invalid and errorPolicy is REJECT_EVERYTHING` })
        })
      }
      await flush(true)
      if (!countWritten) await run(client, setOperationCount(bulkUuid, requestItems.length))
      const response: AsyncResponse = { bulkUuid, requestItems, errors: invalid > 0 }
      if (request.idempotencyKey !== null) {
        await run(client, recordIdempotentResponse(request.owner, request.idempotencyKey, fingerprint.digest('hex'), bulkUuid, response))
      }
      return response
    })
    if (enqueued > 0) deps.afterEnqueue?.(enqueued)
    return response
  } catch (error) {
    if (error instanceof RollBack) return error.response
    throw error
  }
}

/** An item's operation row and its line in the answer: OPEN and ACCEPTED, or REJECTED with its problem. */
function itemOf (kind: OperationKind, index: number, data: unknown, problem: string | null): { operation: NewOperation, requestItem: RequestItem } {
  const dataHash = createHash('sha256').update(canonicalJson(data)).digest('hex')
  return {
    operation: {
      id: randomUUID(),
      index,
      topic: kind.topic,
      status: problem === null ? OPERATION_STATUS.OPEN : OPERATION_STATUS.REJECTED,
      data: data ?? null,
      dataHash,
      errorCode: problem === null ? null : OPERATION_ERROR_CODE.INVALID_INPUT,
      message: problem,
      orderingKey: problem === null ? kind.orderingKey(data) : null,
      numberOrder: kind.numberOrder
    },
    requestItem: {
      id: index,
      orderNumber: null,
      dataHash,
      status: problem === null ? REQUEST_ITEM_STATUS.ACCEPTED : REQUEST_ITEM_STATUS.REJECTED,
      errorMessage: problem
    }
  }
}

/** The key was used before: answer as the first time if the payload is the same. */
async function replay (client: pg.PoolClient, request: AcceptRequest, fingerprint: ReturnType<typeof createHash>): Promise<AsyncResponse> {
  for await (const candidate of request.items) fingerprint.update(createHash('sha256').update(canonicalJson(candidate.data)).digest('hex'))
  const [stored] = await run<{ request_hash: string, response: AsyncResponse }>(client, selectIdempotencyKey(request.owner, request.idempotencyKey!))
  if (!stored || stored.request_hash !== fingerprint.digest('hex')) {
    throw new RequestRejectedError(REQUEST_ERROR_CODE.IDEMPOTENCY_KEY_REUSED, `idempotency key "${request.idempotencyKey}" was used for a different request; use a new key for new work`)
  }
  return stored.response
}
