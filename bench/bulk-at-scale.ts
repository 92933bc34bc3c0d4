/**
 * `npm run bench`: a 100,000-order bulk against a real gateway in its own process.
 *
 * Measures, in one run on a fresh database:
 * - acceptance of the bulk as a streamed JSONL upload (orders/s) and the gateway's peak RSS over its RSS after start;
 * - `bulk { status counts }` latency on the 100,000-operation bulk while workers complete it, against the same
 *   query on an idle 10-operation bulk, sampled alternately in the same loop (ratio, p50, p99);
 * - the time until the bulk has finished (operations completed/s).
 * Figures are ratios against a baseline measured side by side, since the machines are shared and noisy.
 *
 * DATABASE_URL (a server with the right to CREATE DATABASE) or the embedded PostgreSQL; BENCH_ORDERS to change the size.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.ts'
import { createLogger } from '../src/log.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ORDERS = Number(process.env.BENCH_ORDERS ?? 100_000)
const log = createLogger('warn')

const order = (i: number): string => JSON.stringify({
  customerEmail: `buyer${i}@example.com`,
  currency: 'EUR',
  items: [{ sku: `DEMO-${String(i % 100 + 1).padStart(4, '0')}`, quantity: 1 + (i % 3), unitPrice: '19.99' }],
  shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
})

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))] ?? NaN
}

function rssOf (pid: number): { rss: number, peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

async function main (): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-bench-'))
  fs.chmodSync(dataDir, 0o755)
  const cluster = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir, port: 0, log })
  const adminUrl = process.env.DATABASE_URL ?? cluster!.url
  const name = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`

  const port = await freePort()
  const token = `bench-${randomBytes(24).toString('hex')}`
  const authorization = `Bearer ${token}`
  const gateway = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    // The status loop asks as fast as it can: no rate limit, or it would measure the refusals.
    env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADMIN_TOKEN: token, RATE_LIMIT_PER_MINUTE: '0' },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const endpoint = `http://127.0.0.1:${port}/graphql`
  const gql = async (query: string, variables?: object): Promise<any> => {
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query, variables }) })
    return await response.json()
  }
  try {
    for (let ready = false; !ready;) {
      ready = await gql('{ __typename }').then(() => true, async () => { await new Promise(resolve => setTimeout(resolve, 200)); return false })
    }
    const idle = await gql(`mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid } }`,
      { input: Array.from({ length: 10 }, (_, i) => JSON.parse(order(i))) })
    const idleUuid: string = idle.data.placeOrders.bulkUuid
    await new Promise(resolve => setTimeout(resolve, 2000))
    const afterStart = rssOf(gateway.pid!)

    const body = new FormData()
    body.set('operations', JSON.stringify({
      query: 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, description: "bench") { bulkUuid errors } }',
      variables: { file: null }
    }))
    body.set('map', JSON.stringify({ 0: ['variables.file'] }))
    body.set('0', new Blob([Array.from({ length: ORDERS }, (_, i) => order(i)).join('\n')]), 'orders.jsonl')
    const acceptStart = performance.now()
    const accepted = await (await fetch(endpoint, { method: 'POST', body, headers: { 'graphql-require-preflight': '1', authorization } })).json() as any
    const acceptMs = performance.now() - acceptStart
    if (!accepted.data) throw new Error(JSON.stringify(accepted.errors))
    const uuid: string = accepted.data.placeOrdersFromFile.bulkUuid
    const afterAccept = rssOf(gateway.pid!)

    const STATUS = 'query ($uuid: ID!) { bulk(uuid: $uuid) { status counts { open complete retriablyFailed notRetriablyFailed rejected canceled } } }'
    const big: number[] = []
    const small: number[] = []
    const time = async (target: string, into: number[]): Promise<any> => {
      const start = performance.now()
      const result = await gql(STATUS, { uuid: target })
      into.push(performance.now() - start)
      return result.data.bulk
    }
    let state: any
    for (let i = 0; i < 50; i++) { await time(idleUuid, small); await time(uuid, big) } // warm-up
    big.length = 0
    small.length = 0
    const drainStart = performance.now()
    do {
      await time(idleUuid, small)
      state = await time(uuid, big)
    } while (state.status === 'NOT_STARTED' || state.status === 'IN_PROGRESS')
    const drainMs = performance.now() - drainStart

    const rows = [
      { scenario: 'bulk accept (JSONL upload)', figure: `${Math.round(ORDERS / (acceptMs / 1000))} orders/s`, detail: `${ORDERS} orders in ${(acceptMs / 1000).toFixed(1)} s` },
      { scenario: 'memory while accepting', figure: `+${Math.round((afterAccept.peak - afterStart.rss) / 1048576)} MB peak RSS`, detail: `RSS after start ${Math.round(afterStart.rss / 1048576)} MB` },
      { scenario: 'processing', figure: `${Math.round(ORDERS / (drainMs / 1000))} operations/s`, detail: `finished ${state.status} in ${(drainMs / 1000).toFixed(1)} s` },
      {
        scenario: 'status at scale',
        figure: `p99 ${percentile(big, 99).toFixed(2)} ms, p50 ${percentile(big, 50).toFixed(2)} ms (${big.length} samples)`,
        detail: `idle 10-operation bulk p99 ${percentile(small, 99).toFixed(2)} ms, p50 ${percentile(small, 50).toFixed(2)} ms; ratio p50 ${(percentile(big, 50) / percentile(small, 50)).toFixed(2)}×, p99 ${(percentile(big, 99) / percentile(small, 99)).toFixed(2)}×`
      }
    ]
    console.table(rows)
    fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
    const file = path.join(ROOT, 'bench', 'results', `bulk-at-scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
    fs.writeFileSync(file, JSON.stringify({ orders: ORDERS, acceptMs, drainMs, afterStart, afterAccept, statusBigMs: big, statusSmallMs: small, rows, machine: { cpus: os.cpus().length, node: process.version } }, null, 2))
    console.log(`wrote ${path.relative(ROOT, file)}`)
  } finally {
    gateway.kill('SIGTERM')
    await new Promise(resolve => gateway.once('exit', resolve))
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`)
    await admin.end()
    await cluster?.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
