import pg from 'pg'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median } from '../lib/stats.ts'

/**
 * The post-order chain (issue 4) end to end: a backlog of orders accepted while no worker runs, then
 * taken by one worker process (default settings, simulators at zero latency, the real PDF, email,
 * label and ERP-file adapters) from placement through every step to OrderCompleted. The rate is
 * measured on the database's clock: the first placement started to the last order completed.
 * No baseline: the target is absolute (issue 6).
 */
export const fullChain: Scenario = {
  name: 'full-chain',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { chainOrders, repeats } = context.settings
    const url = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway' })
    const rates: number[] = []
    let before: DbCost | undefined
    const once = async (size: number, from: number): Promise<number> => {
      const { uuids } = await acceptBulks([gateway.endpoint!], context.token, size, 1000, 1, from)
      const worker = await startGateway({ databaseUrl: url, token: context.token, role: 'worker' })
      try {
        return size / ((await waitCompleted(url, uuids, size)) / 1000)
      } finally {
        await worker.stop()
      }
    }
    try {
      await once(Math.max(200, Math.round(chainOrders / 10)), 0)
      await settleStats(true)
      before = await readDbCost(url)
      for (let i = 0; i < repeats; i++) rates.push(await once(chainOrders, 1_000_000 + i * chainOrders))
    } finally {
      await gateway.stop()
    }
    // Acceptance, placement and every step of the chain, per order.
    await settleStats(false)
    const cost = { figure: costPer(before!, await readDbCost(url), chainOrders * repeats), baseline: null }
    const rate = median(rates)
    return [{
      cost,
      scenario: `full chain placed → COMPLETED (${chainOrders.toLocaleString('en')} orders, 1 worker process)`,
      figure: `${Math.round(rate)} orders/s`,
      baseline: '—',
      ratio: null,
      target: '≥ 500 orders/s',
      pass: rate >= 500,
      runs: { rates }
    }]
  }
}

/** Waits until every order placed by `uuids` is COMPLETED; answers the milliseconds from the first placement's start to the last completion. */
async function waitCompleted (url: string, uuids: readonly string[], size: number, timeoutMs = 1_800_000): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const { rows: [row] } = await client.query<{ completed: number, failed: number }>(
        `SELECT count(*) FILTER (WHERE o.status = 'COMPLETED')::int AS completed, count(*) FILTER (WHERE o.status IN ('CANCELED', 'FAILED'))::int AS failed
         FROM operation op JOIN orders o ON o.id = op.id WHERE op.bulk_uuid = ANY($1::uuid[])`, [uuids])
      if (row!.failed > 0) throw new Error(`${row!.failed} orders ended CANCELED or FAILED`)
      if (row!.completed === size) break
      if (Date.now() > deadline) throw new Error(`${size - row!.completed} orders not completed after ${timeoutMs / 1000} s`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    const { rows: [span] } = await client.query<{ ms: number }>(
      `SELECT extract(epoch FROM (SELECT max(o.updated_at) FROM operation op JOIN orders o ON o.id = op.id WHERE op.bulk_uuid = ANY($1::uuid[]))
                              - (SELECT min(started_at) FROM operation WHERE bulk_uuid = ANY($1::uuid[]))) * 1000 AS ms`, [uuids])
    return Number(span!.ms)
  } finally {
    await client.end()
  }
}
