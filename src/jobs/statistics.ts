import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { toError, type Logger } from '../log.ts'

/**
 * Keeps planner statistics in step with large bulk inserts. pg-boss's fetch plan depends on them:
 * a job table that just received tens of thousands of rows without fresh statistics was reported
 * 15–25× slower to drain on these machines; our own benchmark (`npm run bench`, scenario
 * "statistics") measured 1.3× on a fresh database. Autovacuum would get there within a minute or
 * so; a bulk wants it now.
 * After `threshold` jobs have been enqueued since the last run, ANALYZE the job and operation
 * tables in the background, one run at a time per process.
 */
export function createStatisticsKeeper (pool: pg.Pool, boss: PgBoss, schema: string, queue: string, log: Logger, threshold = 5000) {
  let pending = 0
  let running: Promise<void> | undefined

  const analyze = async (): Promise<void> => {
    const found = await boss.getQueue(queue)
    const table = found?.table
    // Identifiers come from pg-boss's own catalogue and the validated schema name; still, check them.
    const tables = ['operation']
    if (table && /^[a-z_][a-z0-9_]*$/.test(table)) tables.push(`${schema}.${table}`)
    for (const name of tables) await pool.query(`ANALYZE ${name}`)
  }

  return {
    /** Records that `jobs` jobs were enqueued; may start an ANALYZE. */
    enqueued (jobs: number): void {
      pending += jobs
      if (pending < threshold || running) return
      pending = 0
      running = analyze()
        .catch((error: unknown) => log.warn('ANALYZE after a bulk insert failed', { error: toError(error) }))
        .finally(() => { running = undefined })
    },
    /** Resolves when a running ANALYZE has finished (for shutdown and tests). */
    async settled (): Promise<void> { await running }
  }
}
