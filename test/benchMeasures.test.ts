import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { cpuMsOfTree, cpuPer, readCpu } from '../bench/lib/cpu.ts'
import { isCountedStatement } from '../bench/lib/dbCost.ts'

/**
 * The benchmark's CPU reader (bench/lib/cpu.ts) against real processes: each one reports the CPU it
 * used itself (process.cpuUsage, from getrusage), and /proc must show at least that. No times are
 * asserted, only CPU time, which the machine's load does not change.
 */

/** Burns `ms` of CPU, prints `used <µs>` (its own user + system time) and `parked`, then waits to be killed. */
const BURNER = `
const target = Number(process.argv[1]) * 1000
while (process.cpuUsage().user + process.cpuUsage().system < target) Math.sqrt(Math.random())
const used = process.cpuUsage()
console.log('used ' + (used.user + used.system))
console.log('parked')
setInterval(() => {}, 60000)`

/** Runs a burner to its end as a child (so that this process reaps it), then burns itself and parks. */
const PARENT = `
const { spawnSync } = require('node:child_process')
const child = spawnSync(process.execPath, ['-e', ${JSON.stringify(BURNER.replace('setInterval(() => {}, 60000)', 'process.exit(0)'))}, process.argv[1]], { encoding: 'utf8' })
console.log('reaped ' + /used (\\d+)/.exec(child.stdout)[1])
${BURNER}`

/** Starts a burner as a live child with this process's stdout (its lines come through), and idles. */
const GRANDPARENT = `
require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(BURNER)}, process.argv[1]], { stdio: 'inherit' })
setInterval(() => {}, 60000)`

// Each script leads a process group of its own, so that killing the group ends its children too.
const started: ChildProcess[] = []
afterEach(() => { for (const child of started.splice(0)) process.kill(-child.pid!, 'SIGKILL') })

/** Starts a node script and collects the numbers it prints until it says `parked`. */
async function run (script: string, burnMs: number): Promise<{ pid: number, printed: Record<string, number> }> {
  const child = spawn(process.execPath, ['-e', script, String(burnMs)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  started.push(child)
  const printed: Record<string, number> = {}
  await new Promise<void>((resolve, reject) => {
    let text = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
      for (const [, key, value] of text.matchAll(/^(\w+) (\d+)$/gm)) printed[key!] = Number(value)
      if (text.includes('parked')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the script exited with ${code} before it parked`)))
  })
  return { pid: child.pid!, printed }
}

/** /proc counts in clock ticks (10 ms) and may round each of user and system time down. */
const TICKS = 30

describe('the benchmark CPU reader (bench/lib/cpu.ts)', () => {
  it('counts the CPU a live process used', async () => {
    const { pid, printed } = await run(BURNER, 300)
    const ms = cpuMsOfTree(pid)
    expect(ms).not.toBeNull()
    expect(ms!).toBeGreaterThanOrEqual(printed.used! / 1000 - TICKS)
  })

  it('adds the CPU of children the process has reaped, as a postmaster reaps its exited backends', async () => {
    const { pid, printed } = await run(PARENT, 200)
    expect(printed.reaped! / 1000).toBeGreaterThanOrEqual(200)
    expect(cpuMsOfTree(pid)!).toBeGreaterThanOrEqual((printed.reaped! + printed.used!) / 1000 - 2 * TICKS)
  })

  it('adds the CPU of live descendants', async () => {
    const { pid, printed } = await run(GRANDPARENT, 200)
    expect(cpuMsOfTree(pid)!).toBeGreaterThanOrEqual(printed.used! / 1000 - TICKS)
  })

  it('sums a role of several processes', async () => {
    const parent = await run(BURNER, 100)
    const other = await run(BURNER, 100)
    const reading = readCpu({ both: [parent.pid, other.pid], one: parent.pid, none: [] })
    expect(reading.both!).toBeGreaterThanOrEqual((parent.printed.used! + other.printed.used!) / 1000 - 2 * TICKS)
    expect(reading.both!).toBeGreaterThan(reading.one!)
    expect(reading.none).toBeNull()
  })

  it('answers null for a process that does not exist, and per unit between two readings', () => {
    // Above any pid_max Linux allows (2^22).
    expect(cpuMsOfTree(99_999_999)).toBeNull()
    expect(readCpu({ gone: 99_999_999 }).gone).toBeNull()
    expect(cpuPer({ gateway: 100, postgres: null }, { gateway: 400, postgres: 50 }, 100)).toEqual({ gateway: 3, postgres: null })
  })
})

describe('the benchmark statement count (bench/lib/dbCost.ts)', () => {
  it('leaves out transaction control and the foreign key checks pg_stat_statements files as statements of their own', () => {
    // As pg_stat_statements shows them: the check PostgreSQL runs for each job pg-boss inserts, and the statements clients send.
    expect(isCountedStatement('SELECT $2 FROM ONLY "pgboss"."queue" x WHERE "name" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x')).toBe(false)
    expect(isCountedStatement('SELECT 1 FROM ONLY "public"."bulk" x WHERE "uuid" OPERATOR(pg_catalog.=) $1 FOR SHARE OF x')).toBe(false)
    expect(isCountedStatement('BEGIN')).toBe(false)
    expect(isCountedStatement('COMMIT')).toBe(false)
    expect(isCountedStatement('WITH ins AS ( INSERT INTO pgboss.job_common ( id, name, data ) SELECT * FROM json_to_recordset($1) ) SELECT count(*) FROM ins')).toBe(true)
    expect(isCountedStatement('SELECT status FROM operation WHERE bulk_uuid = $1 FOR UPDATE')).toBe(true)
  })
})
