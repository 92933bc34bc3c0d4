import { runChild } from '../lib/child.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import { waitProcessed } from '../lib/progress.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median } from '../lib/stats.ts'

/**
 * A backlog accepted while no worker runs, then processed by one worker process consuming the
 * placements (the default topic settings: batches of 500, 2 local workers, burst), vs a pg-boss
 * no-op drain with the same settings.
 */
export const processing: Scenario = {
  name: 'processing',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { backlog, repeats } = context.settings
    const url = await context.createDatabase()
    const baselineUrl = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway' })
    const gatewayRate: number[] = []
    const baselineRate: number[] = []
    let before: DbCost[] = []
    const once = async (size: number, from: number): Promise<number> => {
      const { uuids } = await acceptBulks([gateway.endpoint!], context.token, size, 5000, 1, from)
      // The placement consumer alone (WORKER_TOPICS), as the figure is placements/s: the post-order chain
      // of the same orders is measured by the full chain scenario, and would share the process here.
      const worker = await startGateway({ databaseUrl: url, token: context.token, role: 'worker', env: { WORKER_TOPICS: 'order.place' } })
      try {
        const processed = await waitProcessed(url, uuids)
        if (processed.operations !== size) throw new Error(`${size - processed.operations} operations did not complete`)
        return size / (processed.ms / 1000)
      } finally {
        await worker.stop()
      }
    }
    try {
      const warmup = Math.max(1000, Math.round(backlog / 10))
      await once(warmup, 0)
      await runChild(BOSS, { mode: 'drain', url: baselineUrl, jobs: warmup, analyze: false })
      await settleStats(true)
      before = [await readDbCost(url), await readDbCost(baselineUrl)]
      for (let i = 0; i < repeats; i++) {
        gatewayRate.push(await once(backlog, warmup + i * backlog))
        // Neither runs ANALYZE after the insert (the gateway no longer does: a bulk adds a job per chunk).
        baselineRate.push((await runChild<{ perSecond: number }>(BOSS, { mode: 'drain', url: baselineUrl, jobs: backlog, analyze: false })).perSecond)
      }
    } finally {
      await gateway.stop()
    }
    // Acceptance and placement per order; the baseline's insert and no-op work per job.
    await settleStats(false)
    const cost = { figure: costPer(before[0]!, await readDbCost(url), backlog * repeats), baseline: costPer(before[1]!, await readDbCost(baselineUrl), backlog * repeats) }
    const ratio = median(gatewayRate) / median(baselineRate)
    return [{
      cost,
      scenario: `processing (backlog of ${backlog.toLocaleString('en')})`,
      figure: `${Math.round(median(gatewayRate))} operations/s`,
      baseline: `no-op drain: ${Math.round(median(baselineRate))} jobs/s`,
      ratio,
      target: '≥ 0.5×',
      pass: ratio >= 0.5,
      runs: { gatewayRate, baselineRate }
    }]
  }
}

const BOSS = 'bench/baseline/boss.ts'
