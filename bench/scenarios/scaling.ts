import pg from 'pg'
import { cpuPer, readCpu, type CpuReading } from '../lib/cpu.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { startGateway, type GatewayProcess } from '../lib/gateway.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { now } from '../lib/stats.ts'
import { ordersFile, uploadOrders } from '../lib/upload.ts'

/** Orders taken through acceptance and placement before each size's measured run (JIT, caches, connections). */
const WARMUP = 1000
const MB = 1048576

/** One phase of one size: its rate, and what the database and each role's processes spent per order. */
interface Phase { readonly ms: number, readonly perSecond: number, readonly cost: DbCost, readonly cpu: CpuReading }

interface SizeRun {
  readonly size: number
  /** The JSONL upload, from the request sent to its answer (bench clock). */
  readonly accept: Phase
  /** One worker process consuming order.place: first operation started → last finished (database clock). */
  readonly placement: Phase
  /** The post-order chain of the same orders (smallest size only): worker ready → last order COMPLETED (database clock). */
  readonly chain?: Phase
  /** The gateway's RSS at rest after the warm-up, and its peak (VmHWM) once the upload was accepted. */
  readonly memory: { readonly rssIdle: number, readonly peak: number }
}

/**
 * Cost as work grows (issue 17, item 7): for each BENCH_SCALING_SIZES size, in a database of its
 * own and with a fresh gateway process (role gateway: acceptance only), one bulk of that many orders
 * uploaded as JSONL, then placed by one worker process (WORKER_TOPICS=order.place); for the smallest
 * size, the post-order chain too (a worker process of every topic). Each phase reports its rate, the
 * database's statements, transactions and rows per order, and the CPU milliseconds per order of the
 * gateway, the worker and PostgreSQL (bench/lib/cpu.ts): what docs/scaling.md turns into capacity.
 * The gateway's peak RSS per size gives the memory row (issue 17, item 5). One run per size: the
 * counts per order, not the times, are what compare across sizes.
 */
export const scaling: Scenario = {
  name: 'scaling',
  async run (context: ScenarioContext): Promise<Row[]> {
    const sizes = context.settings.scalingSizes
    const runs: SizeRun[] = []
    for (const [i, size] of sizes.entries()) runs.push(await measureSize(context, size, i === 0 && context.settings.scalingChain))
    return [...throughputRows(runs), ...memoryRow(runs)]
  }
}

async function measureSize (context: ScenarioContext, size: number, withChain: boolean): Promise<SizeRun> {
  const url = await context.createDatabase()
  // MAX_BULK_SIZE: a larger size than the default 100,000 is one bulk still.
  const gateway = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway', env: { MAX_BULK_SIZE: String(Math.max(size, 100_000)) } })
  const db = new pg.Client({ connectionString: url, application_name: 'bench:scaling' })
  await db.connect()
  try {
    const warm = await uploadOrders(gateway.endpoint!, context.token, ordersFile(WARMUP))
    await placeWith(context, url, db, warm, WARMUP)
    await settleStats(true)
    const rssIdle = gateway.memory().rss

    let before = await readDbCost(url)
    let cpuBefore = readCpu({ gateway: gateway.pid, postgres: context.postgresPid })
    const file = ordersFile(size, WARMUP)
    const start = now()
    const uuid = await uploadOrders(gateway.endpoint!, context.token, file)
    const acceptMs = now() - start
    const peak = gateway.memory().peak
    const accept = await finish(url, before, cpuBefore, { gateway: gateway.pid, postgres: context.postgresPid }, size, acceptMs)

    before = await readDbCost(url)
    const placement = await placeWith(context, url, db, uuid, size, async (worker) => {
      cpuBefore = readCpu({ gateway: gateway.pid, worker: worker.pid, postgres: context.postgresPid })
      return async (ms) => await finish(url, before, cpuBefore, { gateway: gateway.pid, worker: worker.pid, postgres: context.postgresPid }, size, ms)
    })
    const chain = withChain ? await chainOf(context, url, db, gateway, uuid, size) : undefined
    return { size, accept, placement: placement!, memory: { rssIdle, peak }, ...(chain ? { chain } : {}) }
  } finally {
    await db.end()
    await gateway.stop()
  }
}

/** CPU read at once (the phase's work is over), then the database's counters once every backend has flushed them. */
async function finish (url: string, before: DbCost, cpuBefore: CpuReading, roles: Record<string, number | undefined>, units: number, ms: number): Promise<Phase> {
  const cpu = cpuPer(cpuBefore, readCpu(roles), units)
  await settleStats(true)
  return { ms, perSecond: units / (ms / 1000), cost: costPer(before, await readDbCost(url), units), cpu }
}

/**
 * Places bulk `uuid` with a worker process consuming order.place only, started now and stopped once
 * the bulk has no open operation. `measure`, given the ready worker, answers what to do with the
 * placement's time (database clock) before the worker stops.
 */
async function placeWith (context: ScenarioContext, url: string, db: pg.Client, uuid: string, size: number,
  measure?: (worker: GatewayProcess) => Promise<(ms: number) => Promise<Phase>>): Promise<Phase | undefined> {
  const worker = await startGateway({ databaseUrl: url, token: context.token, role: 'worker', env: { WORKER_TOPICS: 'order.place' } })
  try {
    const done = await measure?.(worker)
    const ms = await waitPlaced(db, uuid, size)
    return await done?.(ms)
  } finally {
    await worker.stop()
  }
}

/** Waits until the bulk has no open operation (its counters: 16 rows at most, whatever its size); answers first started → last finished. */
async function waitPlaced (db: pg.Client, uuid: string, size: number): Promise<number> {
  for (const deadline = Date.now() + 1_800_000; Date.now() < deadline; await new Promise(resolve => setTimeout(resolve, 250))) {
    const { rows: [row] } = await db.query<{ open: number, complete: number, ms: number | null }>(
      `SELECT coalesce(sum(open + retriably_failed), 0)::int AS open, coalesce(sum(complete), 0)::int AS complete,
              extract(epoch FROM max(last_finished_at) - min(first_started_at)) * 1000 AS ms
       FROM bulk_progress WHERE bulk_uuid = $1`, [uuid])
    if (row!.open > 0) continue
    if (row!.complete !== size) throw new Error(`scaling: ${size - row!.complete} of ${size} placements did not complete`)
    return Number(row!.ms)
  }
  throw new Error(`scaling: bulk ${uuid} was not placed within 30 minutes`)
}

/** The post-order chain of the bulk's orders, on a worker process of every topic: worker ready → last order COMPLETED. */
async function chainOf (context: ScenarioContext, url: string, db: pg.Client, gateway: GatewayProcess, uuid: string, size: number): Promise<Phase> {
  const before = await readDbCost(url)
  const worker = await startGateway({ databaseUrl: url, token: context.token, role: 'worker' })
  try {
    const roles = { gateway: gateway.pid, worker: worker.pid, postgres: context.postgresPid }
    const cpuBefore = readCpu(roles)
    const started = (await db.query<{ at: Date }>('SELECT now() AS at')).rows[0]!.at
    for (const deadline = Date.now() + 1_800_000; ; await new Promise(resolve => setTimeout(resolve, 500))) {
      const { rows: [row] } = await db.query<{ completed: number, failed: number, last: Date | null }>(
        `SELECT count(*) FILTER (WHERE o.status = 'COMPLETED')::int AS completed, count(*) FILTER (WHERE o.status IN ('CANCELED', 'FAILED'))::int AS failed,
                max(o.updated_at) AS last
         FROM operation op JOIN orders o ON o.id = op.id WHERE op.bulk_uuid = $1`, [uuid])
      if (row!.failed > 0) throw new Error(`scaling: ${row!.failed} orders ended CANCELED or FAILED`)
      if (row!.completed === size) return await finish(url, before, cpuBefore, roles, size, row!.last!.getTime() - started.getTime())
      if (Date.now() > deadline) throw new Error(`scaling: ${size - row!.completed} orders not completed after 30 minutes`)
    }
  } finally {
    await worker.stop()
  }
}

/** One row per size and phase; the ratio is the rate against the smallest size's (1: no slower per order as bulks grow). */
function throughputRows (runs: readonly SizeRun[]): Row[] {
  const first = runs[0]!
  const rows: Row[] = []
  for (const run of runs) {
    const size = run.size.toLocaleString('en')
    const row = (phase: Phase, label: string, unit: string, base: Phase | undefined): Row => ({
      scenario: `scaling: ${label}`,
      figure: `${Math.round(phase.perSecond)} ${unit}/s`,
      baseline: base && run !== first ? `${first.size.toLocaleString('en')}: ${Math.round(base.perSecond)} ${unit}/s` : '—',
      ratio: base && run !== first ? phase.perSecond / base.perSecond : null,
      target: '— (compared)',
      pass: null,
      cost: { figure: phase.cost, baseline: null },
      cpu: { figure: phase.cpu, baseline: null },
      runs: phase
    })
    rows.push(row(run.accept, `accept one bulk of ${size} (JSONL upload)`, 'orders', first.accept))
    rows.push(row(run.placement, `placement of ${size} (1 worker process)`, 'operations', first.placement))
    if (run.chain) rows.push(row(run.chain, `post-order chain of ${size} (1 worker process)`, 'orders', undefined))
  }
  return rows
}

/** Issue 17, item 5: the largest upload's peak RSS over the idle process, and against the next size's peak. */
function memoryRow (runs: readonly SizeRun[]): Row[] {
  const big = runs.at(-1)!
  const small = runs.at(-2)
  const growth = (big.memory.peak - big.memory.rssIdle) / MB
  const ratio = small ? big.memory.peak / small.memory.peak : null
  return [{
    scenario: `memory: gateway peak RSS accepting ${big.size.toLocaleString('en')} orders as JSONL`,
    figure: `+${Math.round(growth)} MB over idle (peak ${Math.round(big.memory.peak / MB)} MB)`,
    baseline: small
      ? `${small.size.toLocaleString('en')} orders: +${Math.round((small.memory.peak - small.memory.rssIdle) / MB)} MB (peak ${Math.round(small.memory.peak / MB)} MB)`
      : '—',
    ratio,
    target: '≤ +100 MB and peak ≤ 1.2× the smaller upload\'s',
    pass: growth <= 100 && (ratio === null || ratio <= 1.2),
    runs: runs.map(run => ({ size: run.size, ...run.memory }))
  }]
}
