import { createHash, randomUUID } from 'node:crypto'
import type { JobInsert, PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { Role } from '../access/principal.ts'
import { insertBulkWithOperations, insertOperations, operationRowsOfText, rowTextWithJob, type NewBulk, type NewOperation, type OperationRows } from './sql/bulks.ts'
import { bossDb, run, transaction, type Db } from '../platform/db/pool.ts'
import { currentTrace } from '../platform/tracing/tracing.ts'
import { canonicalJson } from './domain/canonicalJson.ts'
import type { BulkKind } from './domain/kind.ts'
import { OPERATION_ERROR_CODE, OPERATION_STATUS } from './domain/status.ts'
import { storableData, storableText, unstorableText } from './domain/storable.ts'
import { claimIdempotencyKey, recordIdempotentResponse, selectIdempotencyKey } from './sql/idempotency.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from './errors.ts'
import { admitBulk, DEFAULT_CHUNK_SIZE, DEFAULT_FAIRNESS, JOB_PRIORITY, jobGroup, jobPriority, type FairnessOptions } from './fairness.ts'
import { fileSpool, memorySpool, type Spool, type SpoolChunk } from './spool.ts'
import { bulkCommitted } from './commitOutcome.ts'
import { operationMetrics } from './metrics.ts'
import type { GroupCommit } from './groupCommit.ts'

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
  /**
   * Every item's line, in request order, for a request whose items were in memory anyway (GraphQL
   * variables, a REST body); null for a streamed upload, whose lines are its bulk's operations, read
   * as a client asks for them (src/operations/requestItems.ts), so that its answer holds nothing per item.
   */
  readonly requestItems: readonly RequestItem[] | null
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
  /** Why an item cannot be accepted, or null. Runs before the acceptance transaction, for `owner` (null: an admin). */
  readonly check: (data: unknown, db: Db, owner: string | null) => Promise<string | null>
  /**
   * A further check of many items at once (up to CHECK_CHUNK, those `check` passed), answering a
   * problem or null for each: one statement for a chunk where `check` would need one per item.
   */
  readonly checkMany?: (data: readonly unknown[], db: Db) => Promise<Array<string | null>>
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
  /** Operations a job of a bulk carries at most (BULK_CHUNK_SIZE; default DEFAULT_CHUNK_SIZE). */
  readonly chunkSize?: number | undefined
  /** Where single operations share a transaction with concurrent ones (absent: each its own). */
  readonly groupCommit?: GroupCommit | undefined
}

/**
 * Rows per statement: bounds statement size and memory however large the bulk. A chunk lives across
 * its statement's round trip, so it outlives young-generation collections: 1,000 rather than 5,000
 * rows cut a 100,000-order upload's peak RSS by about 25 MB, at 100 statements instead of 20.
 */
const CHUNK = 1000
/** Items held for one checkMany. */
const CHECK_CHUNK = 1000

/** Thrown inside the transaction to roll it back and still answer (REJECT_EVERYTHING). */
class RollBack extends Error {
  readonly response: AsyncResponse
  constructor (response: AsyncResponse) {
    super('rolled back')
    this.response = response
  }
}

/** A request read whole and checked, its operations in the spool: what the transaction writes. */
interface ReadRequest {
  readonly bulkUuid: string
  /** The answer's lines, for a request read from memory; null for a streamed upload (AsyncResponse.requestItems). */
  readonly requestItems: RequestItem[] | null
  /** Its items, valid or not. */
  readonly size: number
  readonly invalid: number
  /** The request's fingerprint for idempotency: its arguments, then each item's hash in order. */
  readonly fingerprint: string
}

/**
 * Accepts operations as one bulk: the bulk row, an operation per item (REJECTED with a message for
 * invalid ones), and their pg-boss jobs (one per chunk of a bulk: writeOperations), enqueued through the same transaction. All of
 * it commits, or none of it.
 *
 * The request is read and checked whole before the transaction begins (issue #12, item 1): a JSONL
 * upload streams into a file spool, so that a client sending slowly holds no database connection,
 * and memory holds one chunk of it at a time; items sent as GraphQL variables are in memory
 * already. The transaction then writes them in chunks of CHUNK rows. With an idempotency key, a
 * repeated request (same key, same payload) gets the first response and enqueues nothing; a racing
 * one waits for the first to commit; the same key with another payload is an IDEMPOTENCY_KEY_REUSED error.
 */
export async function acceptOperations (deps: AcceptDeps, request: AcceptRequest): Promise<AsyncResponse> {
  const streamed = Symbol.asyncIterator in request.items
  const memory = streamed ? null : memorySpool()
  const spool = memory ?? await fileSpool()
  try {
    const read = await readRequest(deps, request, spool, !streamed)
    const response = deps.groupCommit !== undefined && memory !== null && groupable(request, read)
      ? await acceptInGroup(deps, deps.groupCommit, request, read, memory.operations, spool)
      : await acceptAlone(deps, request, read, spool)
    countAccepted(request, read, response)
    return response
  } finally {
    await spool.dispose()
  }
}

/** Counts what a request's answer accepted and rejected (/metrics), after its commit; a replayed answer counts nothing. */
function countAccepted (request: AcceptRequest, read: ReadRequest, response: AsyncResponse): void {
  if (response.bulkUuid !== read.bulkUuid) return
  const accepted = rejectedWhole(request, read) ? 0 : read.size - read.invalid
  if (accepted > 0) operationMetrics.accepted.inc({ topic: request.kind.topic }, accepted)
  const rejected = read.size - accepted
  if (rejected > 0) operationMetrics.rejected.inc({ topic: request.kind.topic }, rejected)
}

/**
 * Requests that may share a transaction with others (issue 17, item 2): a single operation sent as
 * GraphQL variables, unless it is to be rejected whole (that one writes nothing, or replays a key).
 */
function groupable (request: AcceptRequest, read: ReadRequest): boolean {
  return read.requestItems !== null && read.size === 1 && !rejectedWhole(request, read)
}

/** A REJECT_EVERYTHING request with an invalid item: nothing of it is written. */
function rejectedWhole (request: AcceptRequest, read: ReadRequest): boolean {
  return read.invalid > 0 && request.errorPolicy === BULK_ERROR_POLICY.REJECT_EVERYTHING
}

/** Accepts a read request in a group commit (src/operations/groupCommit.ts), or alone if its group fails. */
async function acceptInGroup (deps: AcceptDeps, group: GroupCommit, request: AcceptRequest, read: ReadRequest,
  operations: readonly NewOperation[], spool: Spool): Promise<AsyncResponse> {
  const fairness = deps.fairness ?? DEFAULT_FAIRNESS
  // A request read from memory: its answer holds its items, alone as in the group.
  type Held = AsyncResponse & { readonly requestItems: RequestItem[] }
  return await group.accept<Held>({
    bulk: bulkOf(request, read),
    operations,
    job: { group: jobGroup(request.owner), priority: jobPriority(fairness, operations.length) },
    trace: currentTrace(),
    idempotency: request.idempotencyKey === null ? null : { owner: request.owner, key: request.idempotencyKey, requestHash: read.fingerprint },
    response: { bulkUuid: read.bulkUuid, requestItems: read.requestItems!, errors: read.invalid > 0 },
    alone: async () => await acceptAlone(deps, request, read, spool) as Held
  })
}

/** Accepts a read request in a transaction of its own. */
async function acceptAlone (deps: AcceptDeps, request: AcceptRequest, read: ReadRequest, spool: Spool): Promise<AsyncResponse> {
  try {
    return await transaction(deps.pool, async (client) => {
      if (request.idempotencyKey !== null) {
        const [claimed] = await run(client, claimIdempotencyKey(request.owner, request.idempotencyKey))
        if (!claimed) return await replay(client, request, read.fingerprint)
      }
      if (rejectedWhole(request, read)) throw new RollBack(await everythingRejected(read, spool))
      await writeOperations(deps, client, request, read, spool)
      const response: AsyncResponse = { bulkUuid: read.bulkUuid, requestItems: read.requestItems, errors: read.invalid > 0 }
      if (request.idempotencyKey !== null) {
        await run(client, recordIdempotentResponse(request.owner, request.idempotencyKey, read.fingerprint, read.bulkUuid, response))
      }
      return response
    }, { committed: bulkCommitted(read.bulkUuid) })
  } catch (error) {
    if (error instanceof RollBack) return error.response
    throw error
  }
}

/** The bulk row of a read request. */
function bulkOf (request: AcceptRequest, read: ReadRequest): NewBulk {
  return {
    uuid: read.bulkUuid,
    owner: request.owner,
    ownerRole: request.ownerRole,
    description: request.description,
    operationCount: read.size,
    notifyUrl: request.notifyUrl,
    kind: request.kind.bulkKind,
    createdBy: request.createdBy ?? null,
    notAfter: request.notAfter ?? null
  }
}

/**
 * Reads every item, outside any transaction: checks it and adds its operation to the spool, and its
 * line of the answer to `requestItems` when `keepItems` (a request in memory; a streamed upload's
 * lines are read back from its operations). An item whose text PostgreSQL cannot store (a NUL, an
 * unpaired surrogate) is REJECTED like any invalid item, before its own checks run.
 */
async function readRequest (deps: AcceptDeps, request: AcceptRequest, spool: Spool, keepItems: boolean): Promise<ReadRequest> {
  // notAfter only when given, so that keys recorded before deadlines existed still match.
  const deadline = request.notAfter ? { notAfter: request.notAfter.toISOString() } : {}
  const fingerprint = createHash('sha256').update(canonicalJson({
    topic: request.kind.topic, description: request.description, notifyUrl: request.notifyUrl, errorPolicy: request.errorPolicy, ...deadline
  }))
  const requestItems: RequestItem[] | null = keepItems ? [] : null
  let size = 0
  let invalid = 0
  // Items wait only for a checkMany; without one each goes on at once, so that what an item
  // allocates dies young instead of outliving a collection and filling the old generation (issue 17, item 5).
  const batch = request.kind.checkMany === undefined ? 1 : CHECK_CHUNK
  let pending: Array<{ data: unknown, json: string, problem: string | null }> = []
  const flush = async (): Promise<void> => {
    const checked = pending.filter(item => item.problem === null)
    const problems = request.kind.checkMany !== undefined && checked.length > 0 ? await request.kind.checkMany(checked.map(item => item.data), deps.pool) : []
    checked.forEach((item, i) => { item.problem = problems[i] ?? null })
    for (const { data, json, problem } of pending) {
      const operation = operationOf(request.kind, size++, data, json, problem)
      fingerprint.update(operation.dataHash)
      if (problem !== null) invalid++
      await spool.add(operation)
      requestItems?.push(requestItemOf(operation))
    }
    pending = []
  }
  for await (const candidate of request.items) {
    if (size + pending.length >= deps.maxBulkSize) {
      throw new RequestRejectedError(REQUEST_ERROR_CODE.BULK_TOO_LARGE, `input has more than ${deps.maxBulkSize} orders; at most ${deps.maxBulkSize} are accepted in one request`)
    }
    const json = canonicalJson(candidate.data)
    const problem = candidate.problem ?? unstorableText(candidate.data, json) ?? await request.kind.check(candidate.data, deps.pool, request.viewerOwner)
    pending.push({ data: candidate.data, json, problem })
    if (pending.length >= batch) await flush()
  }
  await flush()
  if (size === 0) throw new RequestRejectedError(REQUEST_ERROR_CODE.EMPTY_BULK, 'input must contain at least one order')
  return { bulkUuid: randomUUID(), requestItems, size, invalid, fingerprint: fingerprint.digest('hex') }
}

/**
 * Writes the spooled operations, CHUNK rows a statement, the bulk row with the first chunk, and
 * enqueues their jobs: one per operation of a bulk smaller than `chunkSize`, else one per chunk of
 * `chunkSize` accepted operations; fills in each item's order number.
 */
async function writeOperations (deps: AcceptDeps, client: pg.PoolClient, request: AcceptRequest, read: ReadRequest, spool: Spool): Promise<void> {
  const size = read.size
  const bulk = bulkOf(request, read)
  const fairness = deps.fairness ?? DEFAULT_FAIRNESS
  const group = jobGroup(request.owner)
  const priority = jobPriority(fairness, size)
  await admitBulk(client, fairness, request.owner, read.bulkUuid, size)
  const chunkSize = deps.chunkSize ?? DEFAULT_CHUNK_SIZE
  let first = true
  // The accepting request's trace goes with every job (src/platform/tracing/tracing.ts).
  const trace = currentTrace()
  for await (const chunk of spool.chunks(CHUNK)) {
    // A bulk of at least a chunk's worth of operations: a job per chunk of them, which each operation
    // names as its job. A smaller bulk: a job per operation, fetched in batches, as a single order's;
    // chunk workers count chunks against an owner's share as if each were full (src/operations/fairness.ts).
    const { rows, jobs } = chunkToWrite(chunk, size < chunkSize ? null : chunkSize, (ids, jobId) => jobId === undefined
      ? { id: ids[0]!, data: { operationId: ids[0]!, ...trace }, group, priority }
      : { id: jobId, data: { operationIds: ids, ...trace }, group, priority: JOB_PRIORITY.CHUNK })
    const insert = first ? insertBulkWithOperations(bulk, rows) : insertOperations(read.bulkUuid, rows)
    first = false
    const written = await run<{ id: string, ordering_key: string | null }>(client, insert)
    if (read.requestItems !== null) {
      const keys = new Map(written.map(row => [row.id, row.ordering_key]))
      chunk.ids.forEach((id, i) => { read.requestItems![chunk.from + i]!.orderNumber = keys.get(id) ?? null })
    }
    if (jobs.length > 0) await deps.boss.insert(request.kind.topic, jobs, { db: bossDb(client) })
  }
}

/**
 * A chunk's rows, as the text the insert binds, and the jobs of its accepted operations: with
 * `chunkSize` null, a job per operation (`job(ids)` with its id alone); else a job per `chunkSize`
 * of them (`job(ids, jobId)`), which each of its rows names as its job_id. The rows are taken out
 * of the chunk, so that their joined text alone lives across the statement's round trip.
 */
function chunkToWrite (chunk: SpoolChunk, chunkSize: number | null, job: (ids: string[], jobId?: string) => JobInsert): { rows: OperationRows, jobs: JobInsert[] } {
  const rows = chunk.rows.splice(0)
  const accepted = [...rows.keys()].filter(i => chunk.accepted[i])
  const jobs = chunkSize === null
    ? accepted.map(i => job([chunk.ids[i]!]))
    : chunksOf(accepted, chunkSize).map(positions => {
      const id = randomUUID()
      for (const i of positions) rows[i] = rowTextWithJob(rows[i]!, id)
      return job(positions.map(i => chunk.ids[i]!), id)
    })
  return { rows: operationRowsOfText(rows), jobs }
}

function chunksOf<T> (items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let at = 0; at < items.length; at += size) chunks.push(items.slice(at, at + size))
  return chunks
}

/**
 * The answer to a REJECT_EVERYTHING request with invalid items: every item rejected, nothing written.
 * A streamed upload's lines are read back from its spool: there is no bulk to read them from.
 */
async function everythingRejected (read: ReadRequest, spool: Spool): Promise<AsyncResponse> {
  let items = read.requestItems
  if (items === null) {
    items = []
    for await (const chunk of spool.chunks(CHUNK)) items.push(...chunk.rows.map(row => requestItemOfRow(JSON.parse(row) as SpooledRow)))
  }
  return {
    bulkUuid: read.bulkUuid,
    errors: true,
    requestItems: items.map(item => item.status === REQUEST_ITEM_STATUS.REJECTED
      ? item
      : { ...item, orderNumber: null, status: REQUEST_ITEM_STATUS.REJECTED, errorMessage: `not accepted: ${read.invalid} other item(s) of this request are invalid and errorPolicy is REJECT_EVERYTHING` })
  }
}

/**
 * An item's operation row: OPEN, or REJECTED with its problem. `json` is the item's canonical JSON,
 * whose SHA-256 is its dataHash. A rejected item is stored as it came, but for text PostgreSQL
 * cannot store (U+FFFD instead).
 */
function operationOf (kind: OperationKind, index: number, data: unknown, json: string, problem: string | null): NewOperation {
  const message = problem === null ? null : storableText(problem)
  return {
    id: randomUUID(),
    index,
    topic: kind.topic,
    status: problem === null ? OPERATION_STATUS.OPEN : OPERATION_STATUS.REJECTED,
    data: problem === null ? data ?? null : storableData(data),
    dataHash: createHash('sha256').update(json).digest('hex'),
    errorCode: problem === null ? null : OPERATION_ERROR_CODE.INVALID_INPUT,
    message,
    orderingKey: problem === null ? kind.orderingKey(data) : null,
    numberOrder: kind.numberOrder
  }
}

/** An operation's line of the answer, before it is written (its order number comes with the insert). */
function requestItemOf (operation: Pick<NewOperation, 'index' | 'dataHash' | 'status' | 'message'>): RequestItem {
  return {
    id: operation.index,
    orderNumber: null,
    dataHash: operation.dataHash,
    status: operation.status === OPERATION_STATUS.OPEN ? REQUEST_ITEM_STATUS.ACCEPTED : REQUEST_ITEM_STATUS.REJECTED,
    errorMessage: operation.message
  }
}

/** What an answer's line reads of a spooled row (operationRow's names). */
interface SpooledRow {
  readonly index: number
  readonly status: string
  readonly data_hash: string
  readonly message: string | null
}

/** requestItemOf for a row read back from the spool. */
function requestItemOfRow (row: SpooledRow): RequestItem {
  return requestItemOf({ index: row.index, dataHash: row.data_hash, status: row.status, message: row.message })
}

/** The key was used before: answer as the first time if the payload is the same. */
async function replay (client: pg.PoolClient, request: AcceptRequest, fingerprint: string): Promise<AsyncResponse> {
  const [stored] = await run<{ request_hash: string, response: AsyncResponse }>(client, selectIdempotencyKey(request.owner, request.idempotencyKey!))
  if (!stored || stored.request_hash !== fingerprint) {
    throw new RequestRejectedError(REQUEST_ERROR_CODE.IDEMPOTENCY_KEY_REUSED, `idempotency key "${request.idempotencyKey}" was used for a different request; use a new key for new work`)
  }
  return stored.response
}
