import { costPer, readDbCost, settleStats } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { graphqlClient } from '../lib/http.ts'
import { acceptBulks } from '../lib/load.ts'
import { BULK_STATUS } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, now, percentile, round } from '../lib/stats.ts'
import { ordersFile, uploadOrders } from '../lib/upload.ts'

interface Run { bigP50: number, bigP99: number, smallP50: number, smallP99: number, samples: number, acceptMs: number }

/**
 * (Formerly bench/bulk-at-scale.ts.) Per run, a fresh gateway process with its workers: one large
 * bulk uploaded as JSONL, then `bulk { status counts }` of that bulk and of an idle 10-operation
 * bulk asked alternately in one loop while the workers process it, so that both are compared under
 * the same load. (The gateway's memory while accepting an upload is the scaling scenario's.)
 */
export const statusAtScale: Scenario = {
  name: 'status-at-scale',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { scaleOrders, repeats } = context.settings
    const url = await context.createDatabase()
    const runs: Run[] = []
    await once(context, url, Math.max(1000, Math.round(scaleOrders / 10))) // warm-up
    await settleStats(true)
    const before = await readDbCost(url)
    for (let r = 0; r < repeats; r++) runs.push(await once(context, url, scaleOrders))
    // Acceptance, placement and the status queries asked meanwhile, per order of the large bulks.
    await settleStats(false)
    const cost = { figure: costPer(before, await readDbCost(url), scaleOrders * repeats), baseline: null }
    const bigP99 = median(runs.map(run => run.bigP99))
    const smallP99 = median(runs.map(run => run.smallP99))
    const bigP50 = median(runs.map(run => run.bigP50))
    const smallP50 = median(runs.map(run => run.smallP50))
    const ratio = bigP99 / smallP99
    const size = scaleOrders.toLocaleString('en')
    return [{
      cost,
      scenario: `status at scale (bulk of ${size} being processed)`,
      figure: `p99 ${round(bigP99, 2)} ms, p50 ${round(bigP50, 2)} ms`,
      baseline: `idle 10-operation bulk: p99 ${round(smallP99, 2)} ms, p50 ${round(smallP50, 2)} ms`,
      ratio,
      target: '≤ 2× and < 5 ms',
      pass: ratio <= 2 && bigP99 < 5,
      runs
    }]
  }
}

async function once (context: ScenarioContext, url: string, size: number): Promise<Run> {
  // Gateway and the placement workers in one process (`npm start` with WORKER_TOPICS=order.place): the
  // post-order chain of 100,000 orders would outlast the scenario many times, and each run would inherit
  // the last one's backlog; the chain's own rate is the full chain scenario's.
  const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'all', env: { WORKER_TOPICS: 'order.place' } })
  try {
    const client = graphqlClient(gateway.endpoint!, context.token)
    const { uuids: [idle] } = await acceptBulks([gateway.endpoint!], context.token, 10, 10, 1)
    await new Promise(resolve => setTimeout(resolve, 2000))
    const file = ordersFile(size)
    const start = now()
    const uuid = await uploadOrders(gateway.endpoint!, context.token, file)
    const acceptMs = now() - start

    const big: number[] = []
    const small: number[] = []
    const time = async (target: string, into: number[]): Promise<string> => {
      const begin = now()
      const { bulk } = await client.request<{ bulk: { status: string } }>(BULK_STATUS, { uuid: target })
      into.push(now() - begin)
      return bulk.status
    }
    for (let i = 0; i < 50; i++) { await time(idle!, []); await time(uuid, []) } // warm-up
    let status: string
    do {
      await time(idle!, small)
      status = await time(uuid, big)
    } while (status === 'NOT_STARTED' || status === 'IN_PROGRESS')
    return { bigP50: percentile(big, 50), bigP99: percentile(big, 99), smallP50: percentile(small, 50), smallP99: percentile(small, 99), samples: big.length, acceptMs }
  } finally {
    await gateway.stop()
  }
}
