import autocannon from 'autocannon'
import { runChild } from '../lib/child.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import { order, PLACE_ORDER } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, round } from '../lib/stats.ts'

const BOSS = 'bench/baseline/boss.ts'
const BULK = 1000

/** `placeOrders` with 1,000-order bulks, one request at a time, vs pg-boss insert() of 1,000-job batches. */
export const bulkAccept: Scenario = {
  name: 'bulk-accept',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { bulkOrders: total, repeats } = context.settings
    const gatewayUrl = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: gatewayUrl, token: context.token, role: 'gateway' })
    const baselineUrl = await context.createDatabase()
    let before: DbCost[] = []
    let after: DbCost[] = []
    const gatewayRate: number[] = []
    const baselineRate: number[] = []
    const oneBulkRate: number[] = []
    try {
      await acceptBulks([gateway.endpoint!], context.token, Math.min(total, 5000), BULK, 1) // warm-up
      await runChild(BOSS, { mode: 'insert', url: baselineUrl, jobs: Math.min(total, 5000), batch: BULK })
      await settleStats(true)
      before = [await readDbCost(gatewayUrl), await readDbCost(baselineUrl)]
      for (let i = 0; i < repeats; i++) {
        const accepted = await acceptBulks([gateway.endpoint!], context.token, total, BULK, 1, (i + 1) * total)
        gatewayRate.push(total / (accepted.ms / 1000))
        const inserted = await runChild<{ ms: number }>(BOSS, { mode: 'insert', url: baselineUrl, jobs: total, batch: BULK })
        baselineRate.push(total / (inserted.ms / 1000))
      }
      // The costs are those of the 1,000-order bulks; then the same orders again as one bulk.
      await settleStats(true)
      after = [await readDbCost(gatewayUrl), await readDbCost(baselineUrl)]
      for (let i = 0; i < repeats; i++) {
        const accepted = await acceptBulks([gateway.endpoint!], context.token, total, total, 1, (repeats + i + 1) * total)
        oneBulkRate.push(total / (accepted.ms / 1000))
      }
    } finally {
      await gateway.stop()
    }
    const cost = { figure: costPer(before[0]!, after[0]!, total * repeats), baseline: costPer(before[1]!, after[1]!, total * repeats) }
    const ratio = median(gatewayRate) / median(baselineRate)
    const flat = median(oneBulkRate) / median(gatewayRate)
    return [{
      cost,
      scenario: `bulk accept (${total.toLocaleString('en')} orders, 1,000 a bulk)`,
      figure: `${Math.round(median(gatewayRate))} orders/s`,
      baseline: `insert(): ${Math.round(median(baselineRate))} jobs/s`,
      ratio,
      target: '≥ 1.0×',
      pass: ratio >= 1.0,
      runs: { gatewayRate, baselineRate }
    }, {
      scenario: `bulk accept (one bulk of ${total.toLocaleString('en')} orders)`,
      figure: `${Math.round(median(oneBulkRate))} orders/s`,
      baseline: `1,000 a bulk: ${Math.round(median(gatewayRate))} orders/s`,
      ratio: flat,
      target: '≥ 0.9× (flat)',
      pass: flat >= 0.9,
      runs: { oneBulkRate }
    }]
  }
}

interface SendResult { perSecond: number, p50: number, p99: number, count: number }

/** `placeOrder` from autocannon at N connections vs pg-boss send() from N concurrent callers. */
export const singleAccept: Scenario = {
  name: 'single-accept',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { connections, singleSeconds, repeats } = context.settings
    const gatewayUrl = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: gatewayUrl, token: context.token, role: 'gateway' })
    const baselineUrl = await context.createDatabase()
    let before: DbCost[] = []
    const cannon = async (seconds: number): Promise<SendResult> => {
      const result = await autocannon({
        url: gateway.endpoint!,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${context.token}` },
        body: JSON.stringify({ query: PLACE_ORDER, variables: { input: order(1) } })
      })
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`single accept: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
      return { perSecond: result['2xx'] / result.duration, p99: result.latency.p99, p50: result.latency.p50, count: result['2xx'] }
    }
    const gatewayRuns: SendResult[] = []
    const baselineRuns: SendResult[] = []
    try {
      await cannon(2) // warm-up
      await runChild(BOSS, { mode: 'send', url: baselineUrl, seconds: 2, callers: connections })
      await settleStats(true)
      before = [await readDbCost(gatewayUrl), await readDbCost(baselineUrl)]
      for (let i = 0; i < repeats; i++) {
        gatewayRuns.push(await cannon(singleSeconds))
        baselineRuns.push(await runChild<SendResult>(BOSS, { mode: 'send', url: baselineUrl, seconds: singleSeconds, callers: connections }))
      }
    } finally {
      await gateway.stop()
    }
    await settleStats(false)
    const sum = (runs: readonly SendResult[]): number => runs.reduce((total, run) => total + run.count, 0)
    const cost = { figure: costPer(before[0]!, await readDbCost(gatewayUrl), sum(gatewayRuns)), baseline: costPer(before[1]!, await readDbCost(baselineUrl), sum(baselineRuns)) }
    const rate = median(gatewayRuns.map(run => run.perSecond))
    const baseRate = median(baselineRuns.map(run => run.perSecond))
    const p99 = median(gatewayRuns.map(run => run.p99))
    const baseP99 = median(baselineRuns.map(run => run.p99))
    const ratio = rate / baseRate
    return [{
      cost,
      scenario: `single accept (placeOrder, ${connections} connections)`,
      figure: `${Math.round(rate)} req/s, p99 ${round(p99, 1)} ms`,
      baseline: `send() ×${connections}: ${Math.round(baseRate)} jobs/s, p99 ${round(baseP99, 1)} ms`,
      ratio,
      target: '≥ 1.0× and p99 ≤ the baseline\'s',
      pass: ratio >= 1.0 && p99 <= baseP99,
      runs: { gatewayRuns, baselineRuns }
    }]
  }
}
