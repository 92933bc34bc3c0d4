/**
 * `npm run bench`: the performance suite of issue 6. Starts PostgreSQL (embedded, or a fresh
 * database per scenario on DATABASE_URL), runs each scenario against gateway and worker processes of
 * their own with load from this process over real HTTP and WebSocket, and compares every figure
 * with a baseline measured in the same run. Prints one table and writes bench/results/<timestamp>.json.
 * Knobs: bench/lib/settings.ts (BENCH_* variables).
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { openCluster } from './lib/database.ts'
import { ROOT } from './lib/gateway.ts'
import { printTable, writeResults, type Row, type Scenario } from './lib/report.ts'
import { readSettings } from './lib/settings.ts'
import { bulkAccept, singleAccept } from './scenarios/accept.ts'
import { processing } from './scenarios/processing.ts'
import { latency } from './scenarios/latency.ts'
import { subscriptions } from './scenarios/subscriptions.ts'
import { statusPolling } from './scenarios/statusPolling.ts'
import { statusAtScale } from './scenarios/statusAtScale.ts'
import { fullChain } from './scenarios/fullChain.ts'
import { statistics } from './scenarios/statistics.ts'
import { scaleOut } from './scenarios/scaleOut.ts'
import { fairness } from './scenarios/fairness.ts'
import { scaling } from './scenarios/scaling.ts'
import { importAccept } from './scenarios/importAccept.ts'
import { insertCosts } from './scenarios/insertCosts.ts'

const SCENARIOS: readonly Scenario[] = [bulkAccept, singleAccept, processing, latency, subscriptions, statusPolling, statusAtScale, fullChain, statistics, scaleOut, fairness, scaling, importAccept, insertCosts]

const settings = readSettings(process.env)
const chosen = settings.scenarios === undefined ? SCENARIOS : SCENARIOS.filter(scenario => settings.scenarios!.includes(scenario.name))
const unknown = settings.scenarios?.filter(name => !SCENARIOS.some(scenario => scenario.name === name)) ?? []
if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map(s => s.name).join(', ')}`)

const startedAt = new Date()
const loadAtStart = os.loadavg()
const cluster = await openCluster(settings.databaseUrl)
const token = `bench-${randomBytes(24).toString('hex')}`
const rows: Row[] = []
try {
  for (const scenario of chosen) {
    const began = performance.now()
    process.stderr.write(`bench: ${scenario.name}…\n`)
    try {
      rows.push(...await scenario.run({ settings, token, postgresPid: cluster.postgresPid, createDatabase: async () => await cluster.createDatabase() }))
    } catch (error) {
      process.stderr.write(`bench: ${scenario.name} failed: ${(error as Error).stack ?? String(error)}\n`)
      rows.push({ scenario: scenario.name, figure: `failed: ${(error as Error).message}`, baseline: '—', ratio: null, target: '—', pass: false })
    }
    process.stderr.write(`bench: ${scenario.name} took ${Math.round((performance.now() - began) / 1000)} s\n`)
  }
} finally {
  await cluster.stop()
}
printTable(rows)
const file = writeResults(ROOT, rows, settings, cluster.description, startedAt, loadAtStart)
console.log(`\n${cluster.description}; median of ${settings.repeats} runs after a warm-up; wrote ${path.relative(ROOT, file)}`)
