/**
 * `npm run soak`: several gateway and worker processes of the real entry point on one PostgreSQL,
 * clients placing single orders and bulks (some followed by graphql-ws subscribers), cancellations
 * and stock adjustments, while faults are injected on a schedule: processes SIGKILLed and started
 * again, backends terminated, the database restarted, the adapters failing at FAULT_RATES. Then the
 * load stops, the work drains, and a checker verifies invariants over everything accepted
 * (soak/checker.ts). Prints each invariant with its figure, writes soak/results/<time>.json, and
 * exits 1 on any violation. Loopback only; bounded in time (SOAK_SECONDS) and by its drain timeout.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { seedDemoCatalog } from '../src/inventory/seed.ts'
import { freePort } from '../src/platform/db/embedded.ts'
import { check } from './checker.ts'
import { runClients, type ClientStats } from './clients.ts'
import { injectFaults, type FaultLog } from './faults.ts'
import { ROOT, RoleProcess, SoakDatabase } from './processes.ts'

const int = (name: string, fallback: number): number => {
  const raw = process.env[name]?.trim()
  const value = raw ? Number(raw) : fallback
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`)
  return value
}

/** The soak's knobs (all optional). */
const SETTINGS = Object.freeze({
  /** `SOAK_SECONDS` (60): how long the clients send. */
  seconds: int('SOAK_SECONDS', 60),
  /** `SOAK_GATEWAYS` (2) and `SOAK_WORKERS` (2): processes of each role. */
  gateways: Math.max(1, int('SOAK_GATEWAYS', 2)),
  workers: Math.max(1, int('SOAK_WORKERS', 2)),
  /** `SOAK_CLIENTS` (4): concurrent client loops. */
  clients: Math.max(1, int('SOAK_CLIENTS', 4)),
  /** `SOAK_FAULTS` (1): 0 runs without injected faults. */
  faults: int('SOAK_FAULTS', 1) !== 0,
  /** `SOAK_DRAIN_SECONDS` (240): how long the work may take to finish once the clients stop. */
  drainSeconds: int('SOAK_DRAIN_SECONDS', 240)
})

const say = (line: string): void => { process.stderr.write(`soak: ${line}\n`) }
const startedAt = new Date()
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-soak-'))
fs.chmodSync(work, 0o755) // PostgreSQL runs as `postgres` when root starts it
const dataDir = path.join(work, 'data')
const db = new SoakDatabase(path.join(work, 'pg'), await freePort())
const token = `soak-${randomBytes(24).toString('hex')}`
const stats: ClientStats = { accepted: [], unanswered: 0, refused: new Map() }
const faults: FaultLog = { events: [] }
const logFile = fs.createWriteStream(path.join(work, 'processes.log'))
let exitCode = 1

try {
  await db.start()
  const admin = new pg.Client({ connectionString: db.url })
  await admin.connect()
  await admin.query('CREATE DATABASE soak')
  await admin.end()
  const url = new URL(db.url)
  url.pathname = '/soak'
  const env = {
    DATABASE_URL: url.toString(),
    DATA_DIR: dataDir,
    ADMIN_TOKEN: token,
    RATE_LIMIT_PER_MINUTE: '0',
    // Outside systems fail now and then, half before their effect and half after it (a lost answer).
    FAULT_RATES: SETTINGS.faults ? 'payment=0.05,email=0.05,erp=0.05,carrier=0.05,printer=0.05' : '',
    // Retries come quickly and often enough that a transient fault never exhausts them within the drain.
    JOB_RETRY_LIMIT: '30',
    JOB_RETRY_DELAY_SECONDS: '1',
    JOB_EXPIRE_SECONDS: '30',
    PGBOSS_MONITOR_INTERVAL_SECONDS: '5',
    WS_IDLE_TIMEOUT_SECONDS: '0'
  }
  const log = (role: string) => (line: string): void => { logFile.write(`[${role}] ${line}\n`) }
  const gateways = await Promise.all(Array.from({ length: SETTINGS.gateways }, async (_, i) => new RoleProcess({ role: 'gateway', port: await freePort(), env, log: log(`gateway-${i}`) })))
  const workers = Array.from({ length: SETTINGS.workers }, (_, i) => new RoleProcess({ role: 'worker', port: 0, env, log: log(`worker-${i}`) }))
  // The first gateway migrates and seeds (the embedded default's demo catalog comes with npm start; here: DATABASE_URL).
  await gateways[0]!.start()
  await Promise.all([...gateways.slice(1), ...workers].map(async (process) => { await process.start() }))
  await seed(url.toString())
  say(`${SETTINGS.gateways} gateways, ${SETTINGS.workers} workers, ${SETTINGS.clients} clients for ${SETTINGS.seconds} s, faults ${SETTINGS.faults ? 'on' : 'off'}; work in ${work}`)

  const sendUntil = Date.now() + SETTINGS.seconds * 1000
  let followUntil = sendUntil + SETTINGS.drainSeconds * 1000
  const [subscribers] = await Promise.all([
    runClients({ endpoints: gateways.map(gateway => gateway.endpoint), token, clients: SETTINGS.clients, sendUntil, followUntil: () => followUntil }, stats),
    SETTINGS.faults ? injectFaults({ db, gateways, workers, everyMs: Math.max(4000, SETTINGS.seconds * 1000 / 8), until: sendUntil }, faults, say) : Promise.resolve()
  ])
  say(`clients stopped: ${stats.accepted.length} requests accepted; draining`)
  const drained = await drain(url.toString(), SETTINGS.drainSeconds)
  // Let the subscribers catch the last states, then stop following.
  await waitFor(() => stats.accepted.every(a => !a.subscribed || a.lastSeen?.startsWith('FINISHED') === true || a.lastSeen === 'CANCELED'), 20_000)
  followUntil = Date.now()
  await Promise.all(subscribers.map(async (client) => { await client.dispose() }))
  await Promise.all([...gateways, ...workers].map(async (process) => { await process.stop() }))

  const checker = new pg.Client({ connectionString: url.toString() })
  await checker.connect()
  const invariants = await check(checker, dataDir, stats)
  await checker.end()
  exitCode = report({ drained, invariants, kills: [...gateways, ...workers].reduce((sum, p) => sum + p.kills, 0) })
} catch (error) {
  say(`failed: ${(error as Error).stack ?? String(error)}`)
} finally {
  logFile.end()
  await db.stop().catch(() => {})
  if (exitCode === 0) fs.rmSync(work, { recursive: true, force: true })
  else say(`kept for inspection: ${work} (processes.log, data/, pg/)`)
}
process.exit(exitCode)

/** The demo catalog (DEMO-0001 … DEMO-0100, as `npm run seed` makes it): the clients' orders are for its SKUs. */
async function seed (url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  try {
    await seedDemoCatalog(pool)
  } finally {
    await pool.end()
  }
}

/** Waits until no operation and no order is still under way (or the time is up); answers whether it drained. */
async function drain (url: string, seconds: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const deadline = Date.now() + seconds * 1000
    for (;;) {
      const { rows: [row] } = await client.query<{ open: number, placed: number }>(`SELECT
        (SELECT count(*) FROM operation WHERE status IN ('OPEN', 'RETRIABLY_FAILED'))::int AS open,
        (SELECT count(*) FROM orders WHERE status = 'PLACED')::int AS placed`)
      if (row!.open === 0 && row!.placed === 0) return true
      if (Date.now() > deadline) {
        say(`not drained after ${seconds} s: ${row!.open} operations and ${row!.placed} orders under way`)
        return false
      }
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  } finally {
    await client.end()
  }
}

async function waitFor (condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 250))
}

function percentile (values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]!
}

function report (outcome: { drained: boolean, invariants: Awaited<ReturnType<typeof check>>, kills: number }): number {
  const orders = stats.accepted.filter(a => a.kind === 'placeOrder' || a.kind === 'placeOrders').reduce((sum, a) => sum + a.items, 0)
  const latencies = stats.accepted.filter(a => a.kind === 'placeOrder' && a.finishedAfterMs !== undefined).map(a => a.finishedAfterMs!)
  const summary = {
    startedAt,
    finishedAt: new Date(),
    settings: SETTINGS,
    load: {
      requestsAccepted: stats.accepted.length,
      ordersAccepted: orders,
      ordersPerSecond: Math.round(orders / SETTINGS.seconds),
      unanswered: stats.unanswered,
      refused: Object.fromEntries(stats.refused),
      singleOrderAcceptToFinishedMs: { samples: latencies.length, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: Math.max(...latencies, 0) }
    },
    faults: { injected: faults.events.length, kills: outcome.kills, databaseRestarts: db.restarts, schedule: faults.events.map(event => event.fault) },
    drained: outcome.drained,
    invariants: outcome.invariants
  }
  const dir = path.join(ROOT, 'soak', 'results')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n')
  const l = summary.load.singleOrderAcceptToFinishedMs
  console.log(`load: ${summary.load.requestsAccepted} requests, ${orders} orders (${summary.load.ordersPerSecond}/s), ${stats.unanswered} unanswered; ` +
    `single order accept → finished p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms (${l.samples} samples)`)
  console.log(`faults: ${faults.events.length} injected (${outcome.kills} processes killed, ${db.restarts} database restart); drained: ${outcome.drained}`)
  for (const invariant of outcome.invariants) {
    console.log(`${invariant.ok ? 'ok  ' : 'FAIL'} ${invariant.name}: ${invariant.figure}`)
    for (const violation of invariant.violations) console.log(`       ${violation}`)
  }
  const failed = outcome.invariants.filter(invariant => !invariant.ok).length + (outcome.drained ? 0 : 1)
  console.log(`invariants: ${outcome.invariants.length - failed} held, ${failed} broken`)
  console.log(`report: ${path.relative(ROOT, file)}`)
  return failed === 0 ? 0 : 1
}
