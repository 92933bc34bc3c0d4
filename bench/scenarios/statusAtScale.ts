import { startGateway, type GatewayProcess } from '../lib/gateway.ts'
import { graphqlClient } from '../lib/http.ts'
import { acceptBulks } from '../lib/load.ts'
import { BULK_STATUS, order } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, now, percentile, round } from '../lib/stats.ts'

const MB = 1048576

interface Run { bigP50: number, bigP99: number, smallP50: number, smallP99: number, samples: number, rssAfterStart: number, peakWhileAccepting: number, acceptMs: number }

/**
 * (Formerly bench/bulk-at-scale.ts.) Per run, a fresh gateway process with its workers: RSS after
 * start, then one large bulk uploaded as JSONL (the gateway's peak RSS while accepting it), then
 * `bulk { status counts }` of that bulk and of an idle 10-operation bulk asked alternately in one
 * loop while the workers process it, so that both are compared under the same load.
 */
export const statusAtScale: Scenario = {
  name: 'status-at-scale',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { scaleOrders, repeats } = context.settings
    const url = await context.createDatabase()
    const runs: Run[] = []
    await once(context, url, Math.max(1000, Math.round(scaleOrders / 10))) // warm-up
    for (let r = 0; r < repeats; r++) runs.push(await once(context, url, scaleOrders))
    const bigP99 = median(runs.map(run => run.bigP99))
    const smallP99 = median(runs.map(run => run.smallP99))
    const bigP50 = median(runs.map(run => run.bigP50))
    const smallP50 = median(runs.map(run => run.smallP50))
    const growth = median(runs.map(run => run.peakWhileAccepting - run.rssAfterStart)) / MB
    const ratio = bigP99 / smallP99
    const size = scaleOrders.toLocaleString('en')
    return [{
      scenario: `status at scale (bulk of ${size} being processed)`,
      figure: `p99 ${round(bigP99, 2)} ms, p50 ${round(bigP50, 2)} ms`,
      baseline: `idle 10-operation bulk: p99 ${round(smallP99, 2)} ms, p50 ${round(smallP50, 2)} ms`,
      ratio,
      target: '≤ 2× and < 5 ms',
      pass: ratio <= 2 && bigP99 < 5,
      runs
    }, {
      scenario: `memory (accepting ${size} orders as JSONL)`,
      figure: `+${Math.round(growth)} MB peak RSS`,
      baseline: `RSS after start: ${Math.round(median(runs.map(run => run.rssAfterStart)) / MB)} MB`,
      ratio: null,
      target: '< +300 MB',
      pass: growth < 300,
      runs: runs.map(run => ({ rssAfterStart: run.rssAfterStart, peakWhileAccepting: run.peakWhileAccepting, acceptMs: run.acceptMs }))
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
    const rssAfterStart = gateway.memory().rss
    const start = now()
    const uuid = await upload(gateway, context.token, size)
    const acceptMs = now() - start
    const peakWhileAccepting = gateway.memory().peak

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
    return { bigP50: percentile(big, 50), bigP99: percentile(big, 99), smallP50: percentile(small, 50), smallP99: percentile(small, 99), samples: big.length, rssAfterStart, peakWhileAccepting, acceptMs }
  } finally {
    await gateway.stop()
  }
}

/** placeOrdersFromFile: the JSONL upload, read by the gateway as it streams. */
async function upload (gateway: GatewayProcess, token: string, size: number): Promise<string> {
  const body = new FormData()
  body.set('operations', JSON.stringify({
    query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, description: "bench") { bulkUuid errors } }',
    variables: { file: null }
  }))
  body.set('map', JSON.stringify({ 0: ['variables.file'] }))
  body.set('0', new Blob([Array.from({ length: size }, (_, i) => JSON.stringify(order(i))).join('\n')]), 'orders.jsonl')
  const response = await fetch(gateway.endpoint!, { method: 'POST', body, headers: { 'graphql-require-preflight': '1', authorization: `Bearer ${token}` } })
  const result = await response.json() as { data?: { placeOrdersFromFile: { bulkUuid: string, errors: boolean } }, errors?: unknown }
  if (!result.data || result.data.placeOrdersFromFile.errors) throw new Error(`upload failed: ${JSON.stringify(result.errors)}`)
  return result.data.placeOrdersFromFile.bulkUuid
}
