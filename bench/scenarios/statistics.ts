import { runChild } from '../lib/child.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median } from '../lib/stats.ts'

/**
 * Whether ANALYZE after a large insert pays: a pg-boss drain of a backlog of one job per item inserted into a
 * fresh database, with and without ANALYZE after the insert. Each run on a database of its own, so that no
 * statistics carry over. Informational: it has no target (the gateway, with a job per chunk, runs no ANALYZE).
 */
export const statistics: Scenario = {
  name: 'statistics',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { statisticsJobs: jobs, repeats } = context.settings
    // What the database did per job (insert, ANALYZE or not, the drain), summed over the measured runs of each kind.
    const costs: Record<'without' | 'with', DbCost[]> = { without: [], with: [] }
    const drain = async (analyze: boolean, size: number): Promise<number> => {
      const url = await context.createDatabase()
      await settleStats(false) // the migrations' backend flushes its counters as it exits
      const before = await readDbCost(url)
      const { perSecond } = await runChild<{ perSecond: number }>(BOSS, { mode: 'drain', url, jobs: size, analyze })
      await settleStats(false)
      costs[analyze ? 'with' : 'without'].push(costPer(before, await readDbCost(url), size * repeats))
      return perSecond
    }
    await drain(true, 1000) // warm-up
    costs.with.length = 0
    const without: number[] = []
    const withAnalyze: number[] = []
    for (let r = 0; r < repeats; r++) {
      without.push(await drain(false, jobs))
      withAnalyze.push(await drain(true, jobs))
    }
    return [{
      cost: { figure: sumCosts(costs.without), baseline: sumCosts(costs.with) },
      scenario: `planner statistics (drain of ${jobs.toLocaleString('en')} fresh jobs)`,
      figure: `without ANALYZE: ${Math.round(median(without))} jobs/s`,
      baseline: `with ANALYZE: ${Math.round(median(withAnalyze))} jobs/s`,
      ratio: median(without) / median(withAnalyze),
      target: '— (informational)',
      pass: null,
      runs: { without, withAnalyze }
    }]
  }
}

const BOSS = 'bench/baseline/boss.ts'

/** Per-job costs of runs of equal size, each already divided by the runs' total: their sum is the per-job figure. */
function sumCosts (costs: readonly DbCost[]): DbCost {
  const add = (a: number | null, b: number | null): number | null => a === null || b === null ? null : a + b
  return costs.reduce((sum, cost) => ({
    statements: add(sum.statements, cost.statements),
    transactions: sum.transactions + cost.transactions,
    rowsWritten: sum.rowsWritten + cost.rowsWritten,
    walRecords: add(sum.walRecords, cost.walRecords)
  }))
}
