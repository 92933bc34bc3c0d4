import { runChild } from '../lib/child.ts'
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
    const drain = async (analyze: boolean, size: number): Promise<number> =>
      (await runChild<{ perSecond: number }>(BOSS, { mode: 'drain', url: await context.createDatabase(), jobs: size, analyze })).perSecond
    await drain(true, 1000) // warm-up
    const without: number[] = []
    const withAnalyze: number[] = []
    for (let r = 0; r < repeats; r++) {
      without.push(await drain(false, jobs))
      withAnalyze.push(await drain(true, jobs))
    }
    return [{
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
