import type { JobWithMetadata, PgBoss } from 'pg-boss'
import type pg from 'pg'
import { completeOperations, failOperation, startOperations } from '../bulks/queries.ts'
import { run, type BossDb } from '../db/pool.ts'
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
export type OperationProcessor = (tx: BossDb, operations: readonly ClaimedOperation[]) => Promise<ReadonlyMap<string, unknown>>

export interface RunnerDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly log: Logger
}

/**
 * The pg-boss handler of a topic (a `transactional` batch worker). pg-boss opens the transaction,
 * we write the results and the operations' statuses through it, and pg-boss completes the jobs in
 * it before COMMIT: a crash at any point leaves either all of it or none of it, and a job
 * delivered again finds its operation finished and does nothing.
 *
 * A batch is first tried whole (one statement per step for all its operations). If that fails,
 * each operation is tried alone behind a savepoint, so that one bad operation fails itself only:
 * a transient error makes it RETRIABLY_FAILED and fails its job for pg-boss to retry with backoff
 * (or NOT_RETRIABLY_FAILED once retries are used up); a permanent one makes it NOT_RETRIABLY_FAILED
 * and its job completes, having done all it can. A lost connection fails the whole batch.
 */
export function operationHandler (topic: TopicDefinition, process: OperationProcessor, deps: RunnerDeps) {
  const log = deps.log.child({ queue: topic.queue })

  const settle = async (tx: BossDb, operations: readonly ClaimedOperation[]): Promise<void> => {
    const results = await process(tx, operations)
    const missing = operations.find(op => !results.has(op.id))
    if (missing) throw new Error(`${topic.queue} returned no result for operation ${missing.id}`)
    await run(tx, completeOperations(operations.map(op => ({ id: op.id, result: results.get(op.id) ?? null }))))
  }

  const recordFailure = async (tx: BossDb, operation: ClaimedOperation, job: JobWithMetadata<OperationJob>, error: unknown): Promise<void> => {
    const message = describe(error)
    if (!isTransient(error)) {
      log.warn('operation failed permanently', { operationId: operation.id, error: message })
      await run(tx, failOperation(operation.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, OPERATION_ERROR_CODE.PERMANENT_FAILURE, message))
      return // its job completes with the batch: nothing a retry could change
    }
    const retriesLeft = job.retryCount < job.retryLimit
    log.info('operation failed, transiently', { operationId: operation.id, attempt: job.retryCount + 1, retriesLeft, error: message })
    await run(tx, retriesLeft
      ? failOperation(operation.id, OPERATION_STATUS.RETRIABLY_FAILED, OPERATION_ERROR_CODE.TRANSIENT_FAILURE, message)
      : failOperation(operation.id, OPERATION_STATUS.NOT_RETRIABLY_FAILED, OPERATION_ERROR_CODE.RETRIES_EXHAUSTED, message))
    // pg-boss schedules the retry (or dead-letters the job) in this same transaction.
    await deps.boss.fail(topic.queue, job, { message }, { db: tx })
  }

  return async (jobs: Array<JobWithMetadata<OperationJob>>, tx: BossDb): Promise<void> => {
    const jobByOperation = new Map(jobs.map(job => [job.data.operationId, job]))
    // Outside the job transaction, so that status queries see the operations begin at once.
    const claimed = await run<ClaimedOperation>(deps.pool, startOperations([...jobByOperation.keys()]))
    if (claimed.length === 0) return

    if (claimed.length > 1) {
      try {
        await savepoint(tx, 'batch', async () => { await settle(tx, claimed) })
        return
      } catch (error) {
        if (isConnectionLost(error)) throw error
        log.debug('batch failed; trying its operations one by one', { size: claimed.length, error: describe(error) })
      }
    }
    for (const operation of claimed) {
      try {
        await savepoint(tx, 'operation', async () => { await settle(tx, [operation]) })
      } catch (error) {
        if (isConnectionLost(error)) throw error
        await recordFailure(tx, operation, jobByOperation.get(operation.id)!, error)
      }
    }
  }
}

async function savepoint (tx: BossDb, name: string, work: () => Promise<void>): Promise<void> {
  await tx.executeSql(`SAVEPOINT ${name}`)
  try {
    await work()
  } catch (error) {
    await tx.executeSql(`ROLLBACK TO SAVEPOINT ${name}`)
    throw error
  }
  await tx.executeSql(`RELEASE SAVEPOINT ${name}`)
}
