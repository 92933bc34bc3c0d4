import type { JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import { completeOperations, failOperation, startOperations } from '../bulks/queries.ts'
import { bossDb, run, transaction, type Db } from '../db/pool.ts'
import { OPERATION_ERROR_CODE, OPERATION_STATUS } from '../domain/bulk/status.ts'
import type { Logger } from '../log.ts'
import { describe, isConnectionLost, isTransient } from './errors.ts'
import type { OperationJob, TopicDefinition } from './topology.ts'

/** An operation a worker has claimed: its id and the data submitted for it. */
export interface ClaimedOperation {
  readonly id: string
  readonly bulk_uuid: string
  readonly request_index: number
  readonly data: unknown
}

/**
 * The work of one topic for a batch of operations, run inside the job transaction: returns each
 * operation's result. It throws to fail the batch; the runner then finds the culprit.
 */
export type OperationProcessor = (tx: Db, operations: readonly ClaimedOperation[]) => Promise<ReadonlyMap<string, unknown>>

export interface RunnerDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly log: Logger
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
 * A batch is first tried whole (one statement per step for all its operations). If that fails,
 * each operation is tried alone behind a savepoint, so that one bad operation fails itself only:
 * a transient error makes it RETRIABLY_FAILED and fails its job for pg-boss to retry with backoff
 * (or NOT_RETRIABLY_FAILED once retries are used up); a permanent one makes it NOT_RETRIABLY_FAILED
 * and its job completes, having done all it can. A lost connection fails the whole batch.
 */
export function operationHandler (topic: TopicDefinition, process: OperationProcessor, deps: RunnerDeps) {
  const log = deps.log.child({ queue: topic.queue })

  const settle = async (tx: Db, operations: readonly ClaimedOperation[]): Promise<void> => {
    const results = await process(tx, operations)
    const missing = operations.find(op => !results.has(op.id))
    if (missing) throw new Error(`${topic.queue} returned no result for operation ${missing.id}`)
    await run(tx, completeOperations(operations.map(op => ({ id: op.id, result: results.get(op.id) ?? null }))))
  }

  /** Records the failure of one operation; returns true when its job was failed (to be retried or dead-lettered). */
  const recordFailure = async (tx: pg.PoolClient, operation: ClaimedOperation, job: JobWithMetadata<OperationJob>, error: unknown): Promise<boolean> => {
    const message = describe(error)
    if (!isTransient(error)) {
      log.warn('operation failed permanently', { operationId: operation.id, error: message })
      await run(tx, failOperation(operation.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, OPERATION_ERROR_CODE.PERMANENT_FAILURE, message))
      return false // its job completes: nothing a retry could change
    }
    const retriesLeft = job.retryCount < job.retryLimit
    log.info('operation failed, transiently', { operationId: operation.id, attempt: job.retryCount + 1, retriesLeft, error: message })
    await run(tx, retriesLeft
      ? failOperation(operation.id, OPERATION_STATUS.RETRIABLY_FAILED, OPERATION_ERROR_CODE.TRANSIENT_FAILURE, message)
      : failOperation(operation.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, OPERATION_ERROR_CODE.RETRIES_EXHAUSTED, message))
    // pg-boss schedules the retry (or dead-letters the job) in this same transaction.
    await deps.boss.fail(topic.queue, job, { message }, { db: bossDb(tx) })
    return true
  }

  return async (jobs: Array<JobWithMetadata<OperationJob>>): Promise<void> => {
    const jobByOperation = new Map(jobs.map(job => [job.data.operationId, job]))
    // Outside the job transaction, so that status queries see the operations begin at once.
    const claimed = await run<ClaimedOperation>(deps.pool, startOperations([...jobByOperation.keys()]))

    await transaction(deps.pool, async (tx) => {
      const failedJobs = new Set<string>()
      let done = false
      if (claimed.length > 1) {
        try {
          await savepoint(tx, 'batch', async () => { await settle(tx, claimed) })
          done = true
        } catch (error) {
          if (isConnectionLost(error)) throw error
          log.debug('batch failed; trying its operations one by one', { size: claimed.length, error: describe(error) })
        }
      }
      if (!done) {
        for (const operation of claimed) {
          try {
            await savepoint(tx, 'operation', async () => { await settle(tx, [operation]) })
          } catch (error) {
            if (isConnectionLost(error)) throw error
            const job = jobByOperation.get(operation.id)!
            if (await recordFailure(tx, operation, job, error)) failedJobs.add(job.id)
          }
        }
      }
      // Every other job is done: its operation completed, failed for good, or was already final.
      const completed = jobs.filter(job => !failedJobs.has(job.id))
      if (completed.length > 0) await deps.boss.complete(topic.queue, completed, null, { db: bossDb(tx) })
      // pg-boss gave up on this attempt (it expired) and will retry it: let the retry do the work.
      if (jobs.some(job => job.signal?.aborted)) throw new Error(`attempt abandoned after ${topic.expireInSeconds}s; rolled back`)
    })
  }
}

async function savepoint (tx: pg.PoolClient, name: string, work: () => Promise<void>): Promise<void> {
  await tx.query(`SAVEPOINT ${name}`)
  try {
    await work()
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`)
    throw error
  }
  await tx.query(`RELEASE SAVEPOINT ${name}`)
}
