import type { JobInsert, JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import {
  claimOperations, completeOperations, lockBulkRunsShared, deferOperations, detachOperation, expireOperations, failOperation, startOperations, type AttemptStart
} from './sql/bulks.ts'
import { bossDb, run, transaction, type Db } from '../platform/db/pool.ts'
import { OPERATION_ERROR_CODE, OPERATION_STATUS } from './domain/status.ts'
import type { Logger } from '../platform/log.ts'
import { affectedBy } from '../platform/jobs/boss.ts'
import { describe, detail, isConnectionLost, isTransient } from '../platform/jobs/errors.ts'
import { operationIdsOf, type OperationJob, type OperationTopic } from './topics.ts'
import { JOB_PRIORITY } from './fairness.ts'
import { reportSettled, type Outcomes } from './settled.ts'
import type { ExportContext } from './exports.ts'

/**
 * A processor's answer for an operation it cannot do and never will (the order it names was never
 * placed): the operation becomes NOT_RETRIABLY_FAILED with this code and message, which clients read.
 */
export class OperationRefused {
  readonly code: string
  readonly message: string
  constructor (code: string, message: string) {
    this.code = code
    this.message = message
  }
}

/** How long an operation waiting for an earlier one on the same order waits before it is tried again. */
const WAIT_FOR_EARLIER_MS = 1000

/** An operation a worker has claimed: its id and the data submitted for it. */
export interface ClaimedOperation {
  readonly id: string
  readonly bulk_uuid: string
  readonly request_index: number
  readonly data: unknown
  /** The order it is about, if any (for placements, the order number given at acceptance). */
  readonly ordering_key: string | null
  /** When this attempt claimed it: its start, written with its end. */
  readonly claimed_at: Date
}

/**
 * The work of one topic for a batch of operations, run inside the job transaction: returns each
 * operation's result. It throws to fail the batch; the runner then finds the culprit, running the
 * processor again on parts of the batch. So a processor writes only through `tx` and must be
 * idempotent: effects outside the database belong in steps of their own.
 */
export type OperationProcessor = (tx: Db, operations: readonly ClaimedOperation[], context: ProcessorContext) => Promise<ReadonlyMap<string, unknown>>

/**
 * What a processor may use besides the transaction: pg-boss, to enqueue follow-up jobs through `tx`;
 * for exports, the pool their progress is written through and the folder of their files.
 */
export interface ProcessorContext extends ExportContext {
  readonly boss: PgBoss
}

/** An operation topic bound to its consumer (src/topics.ts binds them). */
export interface TopicDefinition extends OperationTopic {
  /** The consumer: does the work of a batch of operations inside the job transaction. */
  readonly process: OperationProcessor
}

export interface RunnerDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly log: Logger
  /** EXPORT_DIR: where export bulks write their files (src/operations/exports.ts). */
  readonly exportDir: string
}

/**
 * The pg-boss handler of a topic (a batch worker). The handler opens its own transaction, writes
 * the results and the operations' statuses through it, and settles every job of the batch in it
 * (`complete`/`fail` with `db`, fenced to this attempt): a crash at any point leaves either all of
 * it or none of it, and a job delivered again finds its operation finished and does nothing.
 * pg-boss's own completion after the handler returns then finds no active job and changes nothing.
 *
 * We do not use pg-boss's `transactional` workers: when an attempt outlives its expiration,
 * pg-boss queues a ROLLBACK behind the handler's running statement and keeps accepting the
 * handler's next statements until that ROLLBACK is done, so they run outside any transaction
 * (seen in test/worker.test.ts: an operation COMPLETE without its order). With our own
 * transaction an abandoned attempt either commits all of its work or none of it, and an attempt
 * whose signal was aborted rolls back instead of committing.
 *
 * A batch is first tried whole (one statement per step for all its operations). If that fails, it
 * is split in halves behind savepoints until the bad operation stands alone, so that it fails itself only:
 * a transient error makes it RETRIABLY_FAILED and fails its job for pg-boss to retry with backoff
 * (or NOT_RETRIABLY_FAILED once retries are used up); a permanent one makes it NOT_RETRIABLY_FAILED
 * and its job completes, having done all it can. A lost connection fails the whole batch.
 */
export function operationHandler (topic: TopicDefinition, process: OperationProcessor, deps: RunnerDeps) {
  const log = deps.log.child({ queue: topic.queue })
  // Whether startOperations counted the attempt already (long operations, which record their start apart).
  const counted = topic.recordsStart === true

  const settle = async (tx: Db, operations: readonly ClaimedOperation[], outcomes: Outcomes): Promise<void> => {
    const results = await process(tx, operations, { boss: deps.boss, pool: deps.pool, exportDir: deps.exportDir })
    const missing = operations.find(op => !results.has(op.id))
    if (missing) throw new Error(`${topic.queue} returned no result for operation ${missing.id}`)
    const done = operations.filter(op => !(results.get(op.id) instanceof OperationRefused))
    if (done.length > 0) await run(tx, completeOperations(done.map(op => ({ id: op.id, result: results.get(op.id) ?? null, claimedAt: op.claimed_at })), counted))
    for (const op of operations) {
      const result = results.get(op.id)
      if (result instanceof OperationRefused) await run(tx, failOperation(op.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, result.code, result.message, { claimedAt: op.claimed_at, counted }))
      // Overwritten when a later statement fails: the savepoint is rolled back and the group split.
      outcomes.set(op.id, result instanceof OperationRefused ? { status: OPERATION_STATUS.NOT_RETRIABLY_FAILED, code: result.code } : { status: OPERATION_STATUS.COMPLETE })
    }
  }

  /**
   * Settles `operations` behind a savepoint; when that fails, halves the group and tries each half,
   * down to the single operation that fails, which is recorded as failed. A batch with one bad
   * operation costs about log2(n) savepoints rather than n.
   */
  const settleOrSplit = async (tx: pg.PoolClient, operations: readonly ClaimedOperation[], failedJobs: Set<string>,
    jobByOperation: ReadonlyMap<string, JobWithMetadata<OperationJob>>, outcomes: Outcomes): Promise<void> => {
    try {
      await savepoint(tx, async () => { await settle(tx, operations, outcomes) })
      return
    } catch (error) {
      if (isConnectionLost(error)) throw error
      if (operations.length === 1) {
        const job = jobByOperation.get(operations[0]!.id)!
        if (await recordFailure(topic, deps, log, tx, operations[0]!, job, error, outcomes, counted)) failedJobs.add(job.id)
        return
      }
      log.debug('a batch failed; splitting it', { size: operations.length, error: detail(error) })
    }
    const half = Math.ceil(operations.length / 2)
    await settleOrSplit(tx, operations.slice(0, half), failedJobs, jobByOperation, outcomes)
    await settleOrSplit(tx, operations.slice(half), failedJobs, jobByOperation, outcomes)
  }

  return async (jobs: Array<JobWithMetadata<OperationJob>>): Promise<void> => {
    const started = performance.now()
    const outcomes: Outcomes = new Map()
    // A job carries one operation, or a chunk of a bulk's operations that name it as their job.
    const claims = jobs.flatMap(job => operationIdsOf(job.data).map(operationId => ({ operationId, jobId: job.id })))
    const jobByOperation = new Map(jobs.flatMap(job => operationIdsOf(job.data).map(id => [id, job] as const)))
    // Operations whose bulk's notAfter has passed end EXPIRED, unrun; their jobs are then idle (below).
    await run(deps.pool, expireOperations(claims))
    // Long operations only: outside the job transaction, so that status queries see them begin at once.
    if (counted) await run(deps.pool, startOperations(claims))

    let claimed: ClaimedOperation[] = []
    await transaction(deps.pool, async (tx) => {
      // Claimed by a row lock held until this transaction ends, not by a write (issue 17, item 3): an
      // operation is written once, when its attempt ends. Locked and returned in one order for every
      // transaction's writes (bulk, then index), so that two workers cannot deadlock on the rows they
      // touch, the bulk_progress shards included.
      await run(tx, lockBulkRunsShared(claims.map(claim => claim.operationId)))
      claimed = await run<ClaimedOperation>(tx, claimOperations(claims))
      const failedJobs = new Set<string>()
      if (claimed.length > 0) await settleOrSplit(tx, claimed, failedJobs, jobByOperation, outcomes)
      // Every other job is done: its operations completed or failed for good in this transaction
      // (or went on to jobs of their own). Completion is fenced to this attempt: a job that is no
      // longer ours (it expired, and pg-boss gave it to another attempt) must not have its work
      // committed by this one.
      const claimedIds = new Set(claimed.map(op => op.id))
      const worked = jobs.filter(job => operationIdsOf(job.data).some(id => claimedIds.has(id)) && !failedJobs.has(job.id))
      if (worked.length > 0) {
        const affected = affectedBy(await deps.boss.complete(topic.queue, worked, null, { db: bossDb(tx) }))
        if (affected !== worked.length) throw new Error(`${worked.length - affected} job(s) of this batch are no longer held by this attempt; rolled back`)
      }
      // Operations not claimed: each waits for an earlier operation on the same order (it gets a new
      // job for later, here), or was not ours to do (already final, canceled, expired, or carried by a
      // newer job after retryBulk). Jobs with no operation claimed are then done, if they still can
      // be; cancelBulk may have cancelled them already.
      const unclaimed = claims.filter(claim => !claimedIds.has(claim.operationId))
      if (unclaimed.length > 0) {
        const waiting = await run<{ id: string, job_id: string }>(tx, deferOperations(unclaimed))
        if (waiting.length > 0) await deps.boss.insert(topic.queue, laterJobs(waiting, jobByOperation), { db: bossDb(tx) })
        for (const op of waiting) outcomes.set(op.id, { status: 'DEFERRED' })
      }
      const idle = jobs.filter(job => !operationIdsOf(job.data).some(id => claimedIds.has(id)))
      if (idle.length > 0) await deps.boss.complete(topic.queue, idle, null, { db: bossDb(tx) })
      // pg-boss gave up on this attempt (it expired) and will retry it: let the retry do the work.
      if (jobs.some(job => job.signal?.aborted)) throw new Error(`attempt abandoned after ${topic.expireInSeconds}s; rolled back`)
    })
    reportSettled(topic.queue, jobs, claimed, outcomes, (performance.now() - started) / 1000, log)
  }
}

/** Records the failure of one operation; returns true when its job was failed (to be retried or dead-lettered). */
async function recordFailure (topic: TopicDefinition, deps: RunnerDeps, log: Logger, tx: pg.PoolClient, operation: ClaimedOperation,
  job: JobWithMetadata<OperationJob>, error: unknown, outcomes: Outcomes, counted: boolean): Promise<boolean> {
  const message = describe(error)
  const start: AttemptStart = { claimedAt: operation.claimed_at, counted }
  const ids = { jobId: job.id, operationId: operation.id, bulkUuid: operation.bulk_uuid }
  if (!isTransient(error)) {
    log.warn('operation failed permanently', { ...ids, error })
    await run(tx, failOperation(operation.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, OPERATION_ERROR_CODE.PERMANENT_FAILURE, message, start))
    outcomes.set(operation.id, { status: OPERATION_STATUS.NOT_RETRIABLY_FAILED, code: OPERATION_ERROR_CODE.PERMANENT_FAILURE })
    return false // its job completes: nothing a retry could change
  }
  const retriesLeft = job.retryCount < job.retryLimit
  log.info('operation failed, transiently', { ...ids, attempt: job.retryCount + 1, retriesLeft, error })
  const outcome = retriesLeft
    ? { status: OPERATION_STATUS.RETRIABLY_FAILED, code: OPERATION_ERROR_CODE.TRANSIENT_FAILURE }
    : { status: OPERATION_STATUS.NOT_RETRIABLY_FAILED, code: OPERATION_ERROR_CODE.RETRIES_EXHAUSTED }
  await run(tx, failOperation(operation.id, outcome.status, outcome.code, message, start))
  outcomes.set(operation.id, outcome)
  if ('operationIds' in job.data) {
    // An operation of a chunk is retried alone, by a job of its own; the chunk's job completes with the others.
    if (retriesLeft) await retryAlone(deps.boss, topic.queue, tx, operation, job)
    return false
  }
  // pg-boss schedules the retry (or dead-letters the job) in this same transaction.
  const affected = affectedBy(await deps.boss.fail(topic.queue, job, { message }, { db: bossDb(tx) }))
  if (affected !== 1) throw new Error(`job ${job.id} is no longer held by this attempt; rolled back`)
  return true
}

/**
 * The retry of an operation of a chunk: a job of its own, in the same transaction, that goes on
 * where the chunk's job left off: due after the delay pg-boss would have given the chunk's next
 * attempt, with the retries it has left and the same backoff, group and dead letter queue.
 */
async function retryAlone (boss: PgBoss, queue: string, tx: pg.PoolClient, operation: ClaimedOperation, chunk: JobWithMetadata<OperationJob>): Promise<void> {
  const [detached] = await run<{ job_id: string }>(tx, detachOperation(operation.id, chunk.id))
  if (!detached) throw new Error(`operation ${operation.id} is no longer carried by job ${chunk.id}; rolled back`)
  const used = chunk.retryCount + 1
  await boss.insert(queue, [{
    id: detached.job_id,
    data: { operationId: operation.id, ...(chunk.data.traceparent !== undefined ? { traceparent: chunk.data.traceparent } : {}) },
    startAfter: new Date(Date.now() + retryDelaySeconds(chunk, chunk.retryCount) * 1000),
    retryLimit: chunk.retryLimit - used,
    retryDelay: retryDelaySeconds(chunk, used),
    retryBackoff: chunk.retryBackoff,
    ...(typeof chunk.retryDelayMax === 'number' ? { retryDelayMax: chunk.retryDelayMax } : {}),
    priority: JOB_PRIORITY.BULK_ITEM,
    ...(chunk.groupId ? { group: { id: chunk.groupId } } : {})
  }], { db: bossDb(tx) })
}

/**
 * The delay pg-boss gives the retry after `retryCount` retries of a job with this policy: its
 * retryDelay, doubled for each retry with a backoff, at most retryDelayMax (jitter left out).
 */
function retryDelaySeconds (job: Pick<JobWithMetadata<unknown>, 'retryDelay' | 'retryBackoff' | 'retryDelayMax'>, retryCount: number): number {
  if (!job.retryBackoff) return job.retryDelay
  const delay = job.retryDelay * 2 ** retryCount
  return job.retryDelayMax !== undefined && job.retryDelayMax !== null ? Math.min(delay, job.retryDelayMax) : delay
}

/**
 * The new jobs of operations that wait for an earlier one on the same order: a second from now, in
 * the same owner's group as the jobs they replace (fairness: src/operations/fairness.ts).
 */
function laterJobs (waiting: ReadonlyArray<{ id: string, job_id: string }>, jobByOperation: ReadonlyMap<string, JobWithMetadata<OperationJob>>): JobInsert[] {
  const startAfter = new Date(Date.now() + WAIT_FOR_EARLIER_MS)
  return waiting.map(op => {
    const job = jobByOperation.get(op.id)
    const groupId = job?.groupId
    const traceparent = job?.data.traceparent
    return { id: op.job_id, data: { operationId: op.id, ...(traceparent !== undefined ? { traceparent } : {}) }, startAfter, ...(groupId ? { group: { id: groupId } } : {}) }
  })
}

/** Runs `work` behind a savepoint, released either way so that savepoints never nest. */
async function savepoint (tx: pg.PoolClient, work: () => Promise<void>): Promise<void> {
  await tx.query('SAVEPOINT settle')
  try {
    await work()
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT settle')
    await tx.query('RELEASE SAVEPOINT settle')
    throw error
  }
  await tx.query('RELEASE SAVEPOINT settle')
}
