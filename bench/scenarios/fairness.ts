import pg from 'pg'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway } from '../lib/gateway.ts'
import { graphqlClient, type GraphQLClient } from '../lib/http.ts'
import { order, orders, PLACE_ORDER, PLACE_ORDERS } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, now, percentile, round } from '../lib/stats.ts'

/** B's orders measured per run, idle and under A's bulk (at most: only while it is open); one at a time. */
const SAMPLES = 30
const WARMUP = 5
/** The bound B's p99 under A's bulk is held to: about a few placement batches' time, whatever A's size. */
const LOADED_P99_BOUND_MS = 2000

/**
 * Fairness (issue 15, part 1): owner B places single orders one at a time, accept → operation
 * COMPLETE (seen through LISTEN bulk_changed, as the latency scenario), first on an idle gateway,
 * then while owner A's BENCH_BULK_ORDERS-order bulk is being placed. One `npm start`-like process
 * consuming the placements only (WORKER_TOPICS=order.place), with the default fairness settings, with
 * one placement batch in flight per owner, and with them off (SINGLE_OPERATIONS_FIRST=false,
 * OWNER_MAX_OPERATIONS_IN_FLIGHT=0), to show what they change. The ratio is idle p99 ÷ loaded p99 (1: A's bulk costs B nothing).
 */
export const fairness: Scenario = {
  name: 'fairness',
  async run (context: ScenarioContext): Promise<Row[]> {
    const on = await measure(context, {})
    const oneBatch = await measure(context, { OWNER_MAX_OPERATIONS_IN_FLIGHT: '500' })
    const off = await measure(context, { SINGLE_OPERATIONS_FIRST: 'false', OWNER_MAX_OPERATIONS_IN_FLIGHT: '0' })
    const row = (label: string, result: Result, target: string, pass: boolean | null): Row => ({
      scenario: `fairness: B's placeOrder p99 under A's ${context.settings.bulkOrders}-order bulk (${label})`,
      figure: `p99 ${round(result.loaded, 1)} ms (${result.whileOpen} order(s) sent while A's bulk was open)`,
      baseline: `idle: p99 ${round(result.idle, 1)} ms`,
      ratio: result.idle / result.loaded,
      target,
      pass,
      cost: { figure: result.cost, baseline: null },
      runs: result.runs
    })
    // B waits for the placement batches already running, not for A's whole bulk: a bound that does not grow with
    // A's size (issue 15, part 1). A's bulk travels as chunk jobs, which a worker of their own fetches
    // (src/operations/fairness.ts), so B's single orders do not queue behind it even with the settings off.
    return [
      row('fairness on, the defaults', on, `< ${LOADED_P99_BOUND_MS / 1000} s`, on.loaded < LOADED_P99_BOUND_MS),
      row('OWNER_MAX_OPERATIONS_IN_FLIGHT=500', oneBatch, `< ${LOADED_P99_BOUND_MS / 1000} s`, oneBatch.loaded < LOADED_P99_BOUND_MS),
      row('fairness off', off, '— (compared)', null)
    ]
  }
}

interface Result { idle: number, loaded: number, whileOpen: number, runs: unknown, cost: DbCost }

async function measure (context: ScenarioContext, env: Record<string, string>): Promise<Result> {
  const url = await context.createDatabase()
  const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'all', env: { WORKER_TOPICS: 'order.place', ...env } })
  const a = graphqlClient(gateway.endpoint!, context.token)
  const { createApiToken } = await a.request<{ createApiToken: { token: string } }>(
    'mutation { createApiToken(owner: "bench-b", role: INTEGRATION) { token } }')
  const b = graphqlClient(gateway.endpoint!, createApiToken.token)
  const listener = new pg.Client({ connectionString: url })
  await listener.connect()
  const waiting = new Map<string, () => void>()
  listener.on('notification', (message) => { if (message.payload) waiting.get(message.payload)?.() })
  await listener.query('LISTEN bulk_changed')
  const runs: Array<{ idle: number, loaded: number, whileOpen: number }> = []
  let before: DbCost
  try {
    for (let i = 0; i < WARMUP; i++) await once(b, listener, waiting, i)
    await settleStats(true)
    before = await readDbCost(url)
    for (let r = 0; r < context.settings.repeats; r++) {
      const idle: number[] = []
      for (let i = 0; i < SAMPLES; i++) idle.push(await once(b, listener, waiting, i))
      const { placeOrders } = await a.request<{ placeOrders: { bulkUuid: string } }>(PLACE_ORDERS, { input: orders(context.settings.bulkOrders) })
      // Only orders sent while A's bulk is still open count: the first one sent after it finished ends the run.
      const loaded: number[] = []
      while (loaded.length < SAMPLES && await openOperations(listener, placeOrders.bulkUuid) > 0) loaded.push(await once(b, listener, waiting, loaded.length))
      if (loaded.length === 0) throw new Error('fairness: A\'s bulk finished before B sent an order; raise BENCH_BULK_ORDERS')
      runs.push({ idle: percentile(idle, 99), loaded: percentile(loaded, 99), whileOpen: loaded.length })
      await drained(listener, placeOrders.bulkUuid)
    }
  } finally {
    await listener.end()
    await gateway.stop()
  }
  // Every order of the measured runs, A's and B's: acceptance and placement, per order.
  await settleStats(false)
  const placed = runs.reduce((sum, run) => sum + context.settings.bulkOrders + SAMPLES + run.whileOpen, 0)
  const cost = costPer(before, await readDbCost(url), placed)
  return { cost, idle: median(runs.map(run => run.idle)), loaded: median(runs.map(run => run.loaded)), whileOpen: Math.min(...runs.map(run => run.whileOpen)), runs }
}

/** One of B's orders, from sending placeOrder to its operation COMPLETE. */
async function once (client: GraphQLClient, listener: pg.Client, waiting: Map<string, () => void>, i: number): Promise<number> {
  const start = now()
  const { placeOrder } = await client.request<{ placeOrder: { bulkUuid: string } }>(PLACE_ORDER, { input: order(i) })
  const uuid = placeOrder.bulkUuid
  for (;;) {
    // Registered before reading, so a change between the read and the wait is not missed.
    const changed = new Promise<void>(resolve => waiting.set(uuid, resolve))
    const { rows } = await listener.query<{ status: string }>('SELECT status FROM operation WHERE bulk_uuid = $1', [uuid])
    if (rows[0]?.status === 'COMPLETE') break
    if (rows[0]?.status !== undefined && rows[0].status !== 'OPEN') throw new Error(`fairness: B's operation ended ${rows[0].status}`)
    await changed
  }
  waiting.delete(uuid)
  return now() - start
}

async function openOperations (listener: pg.Client, uuid: string): Promise<number> {
  const { rows } = await listener.query<{ open: number }>("SELECT count(*)::int AS open FROM operation WHERE bulk_uuid = $1 AND status = 'OPEN'", [uuid])
  return rows[0]!.open
}

/** Waits until A's bulk has no open operation, so that the next run starts idle. */
async function drained (listener: pg.Client, uuid: string): Promise<void> {
  for (let waited = 0; waited < 600_000; waited += 200) {
    if (await openOperations(listener, uuid) === 0) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`fairness: A's bulk ${uuid} did not drain within 10 minutes`)
}
