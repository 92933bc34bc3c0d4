import type { PgBoss } from 'pg-boss'
import { ConfigError } from '../platform/configError.ts'
import { retryOnDeadlock, run, type Db } from '../platform/db/pool.ts'
import type { Logger } from '../platform/log.ts'
import { deleteOrphanExports } from './exports.ts'
import { SERVICE_TOPICS, type RetentionJob } from './topics.ts'
import { deleteExpiredBulks, deleteExpiredIdempotencyKeys, selectTableExists } from './sql/retention.ts'

export interface RetentionOptions {
  /** RETENTION_DAYS: finished bulks older than this are deleted. */
  readonly retentionDays: number
  /** FAILED_RETENTION_DAYS: a finished bulk with a failed operation is kept this long instead. */
  readonly failedRetentionDays: number
  /** IDEMPOTENCY_TTL_HOURS: idempotency keys older than this are deleted. */
  readonly idempotencyTtlHours: number
  /** The clock. */
  readonly now?: Date
  /** Operations deleted per statement (default 10,000; a larger bulk goes alone). */
  readonly batchOperations?: number
  /** Idempotency keys deleted per statement (default 10,000). */
  readonly batchKeys?: number
  /** EXPORT_DIR: export files whose bulk was deleted go too (none when absent). */
  readonly exportDir?: string
}

export interface RetentionResult {
  readonly bulks: number
  readonly operations: number
  readonly idempotencyKeys: number
  readonly exportFiles: number
}

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/**
 * Deletes what is past its retention, in batches (one statement, so one short transaction, each):
 * idempotency keys older than IDEMPOTENCY_TTL_HOURS, then finished bulks older than RETENTION_DAYS
 * (FAILED_RETENTION_DAYS for one with a failed operation) with their operations (Magento keeps
 * bulk logs 60 days), and then the export files of bulks that are gone. Unfinished bulks, and bulks with an order still live, are kept, however old.
 * What the scheduled job runs; safe to run at any time, and twice at once.
 */
export async function runRetention (db: Db, options: RetentionOptions): Promise<RetentionResult> {
  const now = (options.now ?? new Date()).getTime()
  const batchOperations = options.batchOperations ?? 10_000
  const batchKeys = options.batchKeys ?? 10_000

  let idempotencyKeys = 0
  const [table] = await run<{ present: boolean }>(db, selectTableExists('idempotency_key'))
  if (table?.present) {
    const cutoff = new Date(now - options.idempotencyTtlHours * HOUR_MS)
    for (;;) {
      const [result] = await run<{ deleted: number }>(db, deleteExpiredIdempotencyKeys(cutoff, batchKeys))
      idempotencyKeys += result!.deleted
      if (result!.deleted < batchKeys) break
    }
  }

  let bulks = 0
  let operations = 0
  const cutoff = new Date(now - options.retentionDays * DAY_MS)
  const failedCutoff = new Date(now - Math.max(options.failedRetentionDays, options.retentionDays) * DAY_MS)
  for (;;) {
    // Deleting operations sets their orders' operation_id to NULL, row by row in no particular order,
    // while a chain step may lock some of those orders in id order: a deadlock aborts one side, and
    // when it is this batch it runs again.
    const [result] = await retryOnDeadlock(async () => await run<{ bulks: number, operations: number }>(db, deleteExpiredBulks(cutoff, failedCutoff, 1000, batchOperations)))
    if (result!.bulks === 0) break
    bulks += result!.bulks
    operations += result!.operations
  }
  // After the deletes, and of every bulk gone (also those an earlier run deleted before it could unlink).
  const exportFiles = options.exportDir === undefined ? 0 : await deleteOrphanExports(db, options.exportDir)
  return { bulks, operations, idempotencyKeys, exportFiles }
}

/** The consumer of `bulk.retention`. */
export function retentionHandler (deps: { readonly db: Db, readonly log: Logger, readonly options: Omit<RetentionOptions, 'now'> }) {
  const log = deps.log.child({ queue: SERVICE_TOPICS.retention.queue })
  return async (): Promise<void> => {
    const started = Date.now()
    const result = await runRetention(deps.db, deps.options)
    log.info('retention done', { ...result, ms: Date.now() - started })
  }
}

/** Has pg-boss send the retention job on `cron` (UTC), from whichever process runs its cron pass. */
export async function scheduleRetention (boss: PgBoss, cron: string): Promise<void> {
  const job: RetentionJob = {}
  try {
    await boss.schedule(SERVICE_TOPICS.retention.queue, cron, job, { tz: 'UTC' })
  } catch (error) {
    throw new ConfigError(`RETENTION_CRON must be a cron expression such as "23 * * * *" (hourly), got "${cron}": ${(error as Error).message}`)
  }
}
