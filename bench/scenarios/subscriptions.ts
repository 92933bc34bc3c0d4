import pg from 'pg'
import { startChild } from '../lib/child.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, now, percentile, round } from '../lib/stats.ts'
import { subscribe, type Subscribers } from '../lib/subscribers.ts'

/**
 * N graphql-ws subscribers of one bulk on a gateway without workers. Each round this process
 * commits a status change itself (one operation COMPLETE, as a worker would), and times from just
 * before the commit to each subscriber's receipt. The baseline: the same N clients on a bare
 * graphql-ws server fanning out a NOTIFY through an in-process pubsub (bench/baseline/fanout.ts).
 */
export const subscriptions: Scenario = {
  name: 'subscriptions',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { subscribers: count, subscriptionRounds: rounds, repeats } = context.settings
    const url = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway', env: { SHARED_SUBSCRIPTIONS: 'true' } })
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    const gatewayRuns: Array<{ p50: number, p99: number, lost: number }> = []
    const baselineRuns: Array<{ p50: number, p99: number, lost: number }> = []
    // What the database did per status change delivered to every subscriber (the bench's own commit included).
    const costs: DbCost[] = []
    const counted = async (): Promise<() => Promise<void>> => {
      await settleStats(true)
      const before = await readDbCost(url)
      return async () => {
        await settleStats(true)
        costs.push(costPer(before, await readDbCost(url), rounds * repeats))
      }
    }
    try {
      const { uuids: [uuid] } = await acceptBulks([gateway.endpoint!], context.token, (repeats + 1) * rounds + 2, 100_000, 1)
      const { rows } = await db.query<{ id: string }>('SELECT id FROM operation WHERE bulk_uuid = $1 ORDER BY request_index', [uuid])
      let completed = 0
      const completeOne = async (): Promise<void> => {
        await db.query('UPDATE operation SET status = \'COMPLETE\', started_at = clock_timestamp(), finished_at = clock_timestamp() WHERE id = $1',
          [rows[completed]!.id])
        completed++
      }
      const wsUrl = gateway.endpoint!.replace(/^http/, 'ws')
      gatewayRuns.push(...await measure(await subscribe(wsUrl, context.token, uuid!, count), completeOne, () => completed, rounds, repeats, counted))

      const fanout = await startChild<{ wsUrl: string }>('bench/baseline/fanout.ts', { url })
      let published = 0
      const publish = async (): Promise<void> => {
        published++
        await db.query('SELECT pg_notify($1, $2)', ['bench_fanout', JSON.stringify({ status: 'IN_PROGRESS', counts: { open: 1000, complete: published } })])
      }
      try {
        baselineRuns.push(...await measure(await subscribe(fanout.info.wsUrl, context.token, uuid!, count), publish, () => published, rounds, repeats, counted))
      } finally {
        await fanout.stop()
      }
    } finally {
      await db.end()
      await gateway.stop()
    }
    const p50 = median(gatewayRuns.map(run => run.p50))
    const p99 = median(gatewayRuns.map(run => run.p99))
    const baseP50 = median(baselineRuns.map(run => run.p50))
    const baseP99 = median(baselineRuns.map(run => run.p99))
    const lost = gatewayRuns.reduce((sum, run) => sum + run.lost, 0)
    return [{
      cost: { figure: costs[0]!, baseline: costs[1] ?? null },
      scenario: `subscriptions (commit → ${count.toLocaleString('en')} graphql-ws subscribers)`,
      figure: `p50 ${round(p50, 1)} ms, p99 ${round(p99, 1)} ms${lost > 0 ? `, ${lost} receipts missing` : ''}`,
      baseline: `in-process pubsub: p50 ${round(baseP50, 1)} ms, p99 ${round(baseP99, 1)} ms`,
      ratio: baseP99 / p99,
      // Issue 17, item 4: within a tenth of the bare fan-out.
      target: 'p99 ≤ 1.1× the baseline\'s',
      pass: p99 <= 1.1 * baseP99 && lost === 0,
      runs: { gatewayRuns, baselineRuns }
    }]
  }
}

/** A warm-up round, then `repeats` runs of `rounds` changes each; percentiles over every receipt of a run. */
/** `counted` is called once the warm-up is over, and what it answers once the measured runs are. */
async function measure (subscribers: Subscribers, change: () => Promise<void>, changes: () => number, rounds: number, repeats: number,
  counted: () => Promise<() => Promise<void>>): Promise<Array<{ p50: number, p99: number, lost: number }>> {
  try {
    const first = await subscribers.until(0, 60_000)
    if (first.some(Number.isNaN)) throw new Error(`${first.filter(Number.isNaN).length} subscribers got no first state`)
    const round = async (): Promise<number[]> => {
      const start = now()
      await change()
      const k = changes()
      const arrivals = await subscribers.until(k)
      await new Promise(resolve => setTimeout(resolve, 100))
      return arrivals.map(at => at - start)
    }
    await round() // warm-up
    const measured = await counted()
    const runs: Array<{ p50: number, p99: number, lost: number }> = []
    for (let r = 0; r < repeats; r++) {
      const samples: number[] = []
      for (let i = 0; i < rounds; i++) samples.push(...await round())
      const received = samples.filter(ms => !Number.isNaN(ms))
      runs.push({ p50: percentile(received, 50), p99: percentile(received, 99), lost: samples.length - received.length })
    }
    await measured()
    return runs
  } finally {
    await subscribers.dispose()
  }
}
