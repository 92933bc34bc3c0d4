import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway, type GatewayProcess } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import { waitProcessed } from '../lib/progress.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median } from '../lib/stats.ts'

/** Requests in flight at once, the same for both shapes, spread round-robin over the gateways. */
const CONCURRENCY = 4

interface Shape { gateways: number, workers: number }

/**
 * 2 gateway + 2 worker processes against one PostgreSQL vs 1 + 1, each on a database of its own:
 * orders accepted (1,000-order bulks, the same client concurrency for both) while no worker runs,
 * then that backlog processed by the worker processes.
 */
export const scaleOut: Scenario = {
  name: 'scale-out',
  async run (context: ScenarioContext): Promise<Row[]> {
    const one = await measure(context, { gateways: 1, workers: 1 })
    const two = await measure(context, { gateways: 2, workers: 2 })
    const accept = median(two.accept) / median(one.accept)
    const process = median(two.process) / median(one.process)
    // Acceptance and placement per order, on both rows: 2 + 2 processes, and 1 + 1 as the baseline.
    const cost = { figure: two.cost, baseline: one.cost }
    return [{
      cost,
      scenario: 'scale-out: accept, 2 gateways vs 1',
      figure: `${Math.round(median(two.accept))} orders/s`,
      baseline: `1 gateway: ${Math.round(median(one.accept))} orders/s`,
      ratio: accept,
      target: '— (compared)',
      pass: null,
      runs: { one: one.accept, two: two.accept }
    }, {
      scenario: 'scale-out: processing, 2 workers vs 1',
      figure: `${Math.round(median(two.process))} operations/s`,
      baseline: `1 worker: ${Math.round(median(one.process))} operations/s`,
      ratio: process,
      target: '— (compared)',
      pass: null,
      cost,
      runs: { one: one.process, two: two.process }
    }]
  }
}

async function measure (context: ScenarioContext, shape: Shape): Promise<{ accept: number[], process: number[], cost: DbCost }> {
  const { scaleOutOrders: total, repeats } = context.settings
  const url = await context.createDatabase()
  const gateways: GatewayProcess[] = []
  const accept: number[] = []
  const process: number[] = []
  let before: DbCost
  const once = async (size: number, from: number): Promise<void> => {
    const endpoints = gateways.map(gateway => gateway.endpoint!)
    const accepted = await acceptBulks(endpoints, context.token, size, 1000, CONCURRENCY, from)
    const workers = await Promise.all(Array.from({ length: shape.workers }, async () => await startGateway({ databaseUrl: url, token: context.token, role: 'worker', env: { WORKER_TOPICS: 'order.place' } })))
    try {
      const processed = await waitProcessed(url, accepted.uuids)
      accept.push(size / (accepted.ms / 1000))
      process.push(processed.operations / (processed.ms / 1000))
    } finally {
      await Promise.all(workers.map(async worker => await worker.stop()))
    }
  }
  try {
    for (let i = 0; i < shape.gateways; i++) gateways.push(await startGateway({ databaseUrl: url, token: context.token, role: 'gateway' }))
    await once(Math.max(1000, Math.round(total / 10)), 0) // warm-up
    accept.length = 0
    process.length = 0
    await settleStats(true)
    before = await readDbCost(url)
    for (let r = 0; r < repeats; r++) await once(total, (r + 1) * total)
  } finally {
    await Promise.all(gateways.map(async gateway => await gateway.stop()))
  }
  await settleStats(false)
  return { accept, process, cost: costPer(before, await readDbCost(url), total * repeats) }
}
