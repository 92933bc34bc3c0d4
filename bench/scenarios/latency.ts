import pg from 'pg'
import { runChild } from '../lib/child.ts'
import { costPer, readDbCost, settleStats } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { graphqlClient } from '../lib/http.ts'
import { order, PLACE_ORDER } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { now, percentile, round } from '../lib/stats.ts'

const WARMUP = 10

/**
 * One order at a time on an idle gateway (`npm start`: gateway and workers in one process): from
 * sending placeOrder to seeing its operation COMPLETE (the order placed, its stock reserved); the
 * next order is sent once this one's chain has completed. Completion is seen through the NOTIFY the
 * operation trigger sends (LISTEN bulk_changed here), then read; vs pg-boss send → handler start.
 */
export const latency: Scenario = {
  name: 'latency',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { latencySamples, repeats } = context.settings
    const url = await context.createDatabase()
    const baselineUrl = await context.createDatabase()
    const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'all' })
    const client = graphqlClient(gateway.endpoint!, context.token)
    const listener = new pg.Client({ connectionString: url })
    await listener.connect()
    const waiting = new Map<string, () => void>()
    listener.on('notification', (message) => { if (message.payload) waiting.get(message.payload)?.() })
    await listener.query('LISTEN bulk_changed')

    const once = async (i: number): Promise<number> => {
      const start = now()
      const { placeOrder } = await client.request<{ placeOrder: { bulkUuid: string } }>(PLACE_ORDER, { input: order(i) })
      const uuid = placeOrder.bulkUuid
      for (;;) {
        // Registered before reading, so a change between the read and the wait is not missed.
        const changed = new Promise<void>(resolve => waiting.set(uuid, resolve))
        const { rows } = await listener.query<{ status: string }>('SELECT status FROM operation WHERE bulk_uuid = $1', [uuid])
        if (rows[0]?.status === 'COMPLETE') break
        if (rows[0]?.status !== undefined && rows[0].status !== 'OPEN') throw new Error(`latency: the operation ended ${rows[0].status}`)
        await changed
      }
      waiting.delete(uuid)
      const ms = now() - start
      // Idle between orders, as the baseline: the order's post-order chain (seven more steps, two PDFs)
      // runs to its end before the next order is placed, so that no sample waits behind the last one's chain.
      for (let waited = 0; ; waited += 20) {
        const { rows } = await listener.query<{ status: string }>('SELECT o.status FROM orders o JOIN operation op ON op.id = o.id WHERE op.bulk_uuid = $1', [uuid])
        if (rows[0]?.status === 'COMPLETED') break
        if (waited > 60_000) throw new Error(`latency: the order of bulk ${uuid} did not complete its chain within 60 s`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      return ms
    }
    // Every run's samples are pooled, so that p99 rests on about ten samples above it, not one.
    const samples: number[] = []
    const baselineSamples: number[] = []
    let before
    try {
      for (let i = 0; i < WARMUP; i++) await once(i)
      await settleStats(true)
      before = await Promise.all([readDbCost(url), readDbCost(baselineUrl)])
      for (let r = 0; r < repeats; r++) {
        for (let i = 0; i < latencySamples; i++) samples.push(await once(i))
        baselineSamples.push(...(await runChild<{ latencies: number[] }>(BOSS, { mode: 'latency', url: baselineUrl, samples: latencySamples, warmup: WARMUP })).latencies)
      }
    } finally {
      await listener.end()
      await gateway.stop()
    }
    // Placement and the whole post-order chain per order; the baseline's send and work per job.
    await settleStats(false)
    const cost = { figure: costPer(before[0], await readDbCost(url), samples.length), baseline: costPer(before[1], await readDbCost(baselineUrl), baselineSamples.length) }
    const spread = (values: readonly number[]): string =>
      `p50 ${round(percentile(values, 50), 1)}, p90 ${round(percentile(values, 90), 1)}, p99 ${round(percentile(values, 99), 1)}, max ${round(Math.max(...values), 1)} ms`
    const p99 = percentile(samples, 99)
    const baseP99 = percentile(baselineSamples, 99)
    return [{
      cost,
      scenario: `latency accept → COMPLETE (${samples.length.toLocaleString('en')} one at a time)`,
      figure: spread(samples),
      baseline: `send → handler start: ${spread(baselineSamples)}`,
      // Inverted so that 1 means "as fast as the baseline": baseline p99 ÷ gateway p99.
      ratio: baseP99 / p99,
      target: 'p99 ≤ 1.5× baseline p99',
      pass: p99 <= 1.5 * baseP99,
      runs: { samples, baselineSamples }
    }]
  }
}

const BOSS = 'bench/baseline/boss.ts'
