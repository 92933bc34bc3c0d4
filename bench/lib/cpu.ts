import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

/**
 * CPU time, counted by the kernel (/proc, Linux): like the database's counters (dbCost.ts), it does
 * not drift with the machine's load the way times do, and CPU milliseconds per order are what a
 * capacity estimate for a larger machine is made from (docs/scaling.md).
 *
 * A process's figure is its own user + system time (every thread of it), the time of the children
 * it has reaped (cutime + cstime) and that of its live descendants. So a PostgreSQL postmaster's
 * figure is the whole cluster: every backend, live or exited since, and the background processes
 * (checkpointer, WAL writer, autovacuum).
 */

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's times (getconf CLK_TCK; 100 on Linux). */
const TICKS_PER_SECOND = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

interface Stat { readonly pid: number, readonly ppid: number, readonly ticks: number }

/** /proc/<pid>/stat's parent and utime + stime + cutime + cstime; undefined once the process is gone. */
function readStat (pid: number): Stat | undefined {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state): ppid is field 4, utime … cstime fields 14 … 17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0)
  return { pid, ppid: Number(fields[1]), ticks }
}

/** Every process now, by parent. */
function processTree (): Map<number, Stat[]> {
  const byParent = new Map<number, Stat[]>()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(Number(name))
    if (stat === undefined) continue
    const siblings = byParent.get(stat.ppid)
    if (siblings) siblings.push(stat)
    else byParent.set(stat.ppid, [stat])
  }
  return byParent
}

/**
 * CPU milliseconds used so far by `pid`, the children it reaped and its live descendants; null when
 * the process does not exist (or /proc is not there).
 */
export function cpuMsOfTree (pid: number, tree = processTree()): number | null {
  const root = readStat(pid)
  if (root === undefined) return null
  let ticks = root.ticks
  const pending = [...(tree.get(pid) ?? [])]
  for (let child = pending.pop(); child !== undefined; child = pending.pop()) {
    ticks += child.ticks
    pending.push(...(tree.get(child.pid) ?? []))
  }
  return ticks * 1000 / TICKS_PER_SECOND
}

/** What each role's processes used: role → CPU ms (null: not measurable, e.g. PostgreSQL on another host). */
export type CpuReading = Readonly<Record<string, number | null>>

/** Reads every named process tree from one scan of /proc; a role of several processes (two workers) is their sum. */
export function readCpu (roles: Readonly<Record<string, readonly number[] | number | undefined>>): CpuReading {
  const tree = processTree()
  const reading: Record<string, number | null> = {}
  for (const [role, pids] of Object.entries(roles)) {
    const list = pids === undefined ? [] : typeof pids === 'number' ? [pids] : pids
    const values = list.map(pid => cpuMsOfTree(pid, tree))
    reading[role] = values.length === 0 || values.some(value => value === null) ? null : values.reduce<number>((sum, value) => sum + value!, 0)
  }
  return reading
}

/** CPU ms per unit of work (an order) for each role, between two readings; a role missing from either is null. */
export function cpuPer (before: CpuReading, after: CpuReading, units: number): CpuReading {
  const per: Record<string, number | null> = {}
  for (const role of Object.keys(after)) {
    const a = before[role]
    const b = after[role]
    per[role] = a === undefined || a === null || b === null || b === undefined ? null : (b - a) / units
  }
  return per
}

/** `gateway 1.20, worker 3.40, postgres 2.10 ms` for the table. */
export function formatCpu (cpu: CpuReading | null | undefined): string {
  if (!cpu) return '—'
  const entries = Object.entries(cpu)
  if (entries.length === 0) return '—'
  return entries.map(([role, ms]) => `${role} ${ms === null ? '?' : ms.toFixed(ms < 10 ? 2 : 1)}`).join(', ') + ' ms'
}

/**
 * The pid of the PostgreSQL postmaster whose data folder is `dataDir` (first line of its
 * postmaster.pid), or undefined when it cannot be read: a server on another host, or a folder this
 * process may not read.
 */
export function postmasterPid (dataDir: string | undefined): number | undefined {
  if (dataDir === undefined) return undefined
  try {
    const pid = Number(fs.readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0])
    // The pid is this machine's postmaster only if that process is a postgres (not a container's pid, say).
    return Number.isInteger(pid) && pid > 0 && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres') ? pid : undefined
  } catch {
    return undefined
  }
}
