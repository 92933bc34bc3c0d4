import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { run } from '../db/pool.ts'
import { toError, type Logger } from '../log.ts'
import { analyzeTable, selectEstimatedRows } from './statisticsSql.ts'

export interface StatisticsPolicy {
  /** Jobs enqueued since the last ANALYZE before the next one may run. */
  readonly threshold: number
  /** …and at least this fraction of the tables' rows at the last ANALYZE (autovacuum's analyze scale factor). */
  readonly scale: number
}

/**
 * 5,000 jobs and a fifth of the table. The planner scales its row estimates by a table's current
 * size on its own; what goes stale is the distribution (how many jobs wait, in which queue), and a
 * bulk that adds less than a fifth of the table moves it little. Measured (PostgreSQL's statement
 * log during a 25,000-order bulk accept): ANALYZE after every 5,000 jobs took 4.3 s of the
 * database's time, more than the inserts it followed.
 */
export const STATISTICS_POLICY: StatisticsPolicy = Object.freeze({ threshold: 5000, scale: 0.2 })

/**
 * Keeps planner statistics in step with large bulk inserts. pg-boss's fetch plan depends on them:
 * a job table that just received tens of thousands of rows without fresh statistics was reported
 * 15–25× slower to drain on these machines; our own benchmark (`npm run bench`, scenario
 * "statistics") measured 1.3× on a fresh database. Autovacuum would get there within a minute or
 * so; a bulk wants it now.
 * Once the jobs enqueued since the last run pass the policy's threshold and scale, ANALYZE the job
 * and operation tables in the background, one run at a time per process.
 */
export function createStatisticsKeeper (pool: pg.Pool, boss: PgBoss, schema: string, queue: string, log: Logger,
  policy: StatisticsPolicy = STATISTICS_POLICY) {
  let pending = 0
  /** Rows of the tables at the last ANALYZE (0 until one ran: the first bulk of the threshold's size triggers it). */
  let rows = 0
  let running: Promise<void> | undefined

  const analyze = async (): Promise<void> => {
    const found = await boss.getQueue(queue)
    // Identifiers come from pg-boss's own catalogue and the validated schema name; analyzeTable checks them too.
    const tables = ['operation', ...(found?.table ? [`${schema}.${found.table}`] : [])]
    for (const table of tables) await run(pool, analyzeTable(table))
    const [estimate] = await run<{ rows: number }>(pool, selectEstimatedRows(tables))
    rows = estimate?.rows ?? 0
  }

  return {
    /** Records that `jobs` jobs were enqueued; may start an ANALYZE. */
    enqueued (jobs: number): void {
      pending += jobs
      if (pending < Math.max(policy.threshold, policy.scale * rows) || running) return
      pending = 0
      running = analyze()
        .catch((error: unknown) => log.warn('ANALYZE after a bulk insert failed', { error: toError(error) }))
        .finally(() => { running = undefined })
    },
    /** Resolves when a running ANALYZE has finished (for shutdown and tests). */
    async settled (): Promise<void> { await running }
  }
}
