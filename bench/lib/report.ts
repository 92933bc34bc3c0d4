import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { formatCpu, type CpuReading } from './cpu.ts'
import { formatCost, type DbCost } from './dbCost.ts'
import type { BenchSettings } from './settings.ts'

/** One line of the table and of the JSON file. */
export interface Row {
  readonly scenario: string
  /** The gateway's figure, with its unit (the median of the measured runs). */
  readonly figure: string
  /** The baseline measured in the same run. */
  readonly baseline: string
  /** figure ÷ baseline, oriented so that 1 means "as good as the baseline"; null when not a ratio. */
  readonly ratio: number | null
  readonly target: string
  /** null: not measured, or no target. */
  readonly pass: boolean | null
  /** What the database did per order (per job for the baseline), summed over the measured runs. */
  readonly cost?: { readonly figure: DbCost, readonly baseline: DbCost | null }
  /** CPU milliseconds per order of each role's processes (gateway, worker, postgres: bench/lib/cpu.ts). */
  readonly cpu?: { readonly figure: CpuReading, readonly baseline: CpuReading | null }
  /** Every run's numbers, for the JSON file. */
  readonly runs?: unknown
}

export interface Scenario {
  readonly name: string
  run (context: ScenarioContext): Promise<Row[]>
}

export interface ScenarioContext {
  readonly settings: BenchSettings
  /** A fresh database on the suite's cluster. */
  createDatabase (): Promise<string>
  /** The admin token every gateway of the suite is started with. */
  readonly token: string
  /** The PostgreSQL postmaster's pid, for CPU figures; undefined when the server is not on this machine. */
  readonly postgresPid: number | undefined
}

export function printTable (rows: readonly Row[]): void {
  const cells = rows.map(row => [row.scenario, row.figure, row.baseline, row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`, row.target,
    row.pass === null ? '—' : row.pass ? 'pass' : 'FAIL', formatCost(row.cost?.figure), formatCost(row.cost?.baseline), formatCpu(row.cpu?.figure)])
  const header = ['scenario', 'figure', 'baseline (same run)', 'ratio', 'target', 'result', 'database per order', 'baseline per job', 'CPU per order']
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map(cell => cell[i]!.length)))
  const line = (values: readonly string[]): string => '| ' + values.map((value, i) => value.padEnd(widths[i]!)).join(' | ') + ' |'
  console.log(line(header))
  console.log('|' + widths.map(width => '-'.repeat(width + 2)).join('|') + '|')
  for (const cell of cells) console.log(line(cell))
}

/**
 * Writes the run's JSON. `loadAtStart` is os.loadavg() when the suite began: with the one at the end,
 * it says how busy the machine was, which the times depend on and the counts do not.
 */
export function writeResults (root: string, rows: readonly Row[], settings: BenchSettings, database: string, startedAt: Date, loadAtStart: number[]): string {
  const dir = path.join(root, 'bench', 'results')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 1048576), node: process.version, platform: `${os.platform()} ${os.release()}`, database, loadAverage: { start: loadAtStart, end: os.loadavg() } }
  fs.writeFileSync(file, JSON.stringify({ startedAt, finishedAt: new Date(), machine, settings, rows }, null, 2) + '\n')
  return file
}
