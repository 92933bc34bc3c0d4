import { randomInt } from 'node:crypto'
import pg from 'pg'
import type { RoleProcess, SoakDatabase } from './processes.ts'

/** What the soak did to the system, for the report. */
export interface FaultLog {
  readonly events: Array<{ readonly at: number, readonly fault: string }>
}

/** In rotation; the database restart comes third, so that a short run (CI's) has one too. */
const FAULTS = ['kill a worker', 'terminate backends', 'restart the database', 'kill a gateway', 'kill a worker', 'terminate backends'] as const

/**
 * Injects a fault every `everyMs` until `until`, in rotation: a worker SIGKILLed and started again,
 * a gateway likewise (its clients go to the others meanwhile), random backends of the gateway's
 * processes terminated (pg_terminate_backend), and the database stopped and started once. The
 * adapters' own faults (FAULT_RATES) run all along.
 */
export async function injectFaults (options: {
  readonly db: SoakDatabase
  readonly gateways: readonly RoleProcess[]
  readonly workers: readonly RoleProcess[]
  readonly everyMs: number
  readonly until: number
}, log: FaultLog, say: (line: string) => void): Promise<void> {
  let restartedDatabase = false
  for (let round = 0; Date.now() + options.everyMs < options.until; round++) {
    await new Promise(resolve => setTimeout(resolve, options.everyMs))
    let fault: string = FAULTS[round % FAULTS.length]!
    if (fault === 'restart the database' && restartedDatabase) fault = 'terminate backends'
    say(`fault: ${fault}`)
    log.events.push({ at: Date.now(), fault })
    switch (fault) {
      case 'kill a worker': await killAndRestart(options.workers[randomInt(options.workers.length)]!); break
      case 'kill a gateway': await killAndRestart(options.gateways[randomInt(options.gateways.length)]!); break
      case 'terminate backends': await terminateBackends(options.db.url, 4); break
      case 'restart the database':
        restartedDatabase = true
        await options.db.restart()
        break
    }
  }
}

async function killAndRestart (process: RoleProcess): Promise<void> {
  await process.kill()
  await new Promise(resolve => setTimeout(resolve, 500 + randomInt(1500)))
  await process.start()
}

/** Ends `count` random backends of the gateway's processes (pool, pg-boss, listeners), as a failover or an admin would. */
async function terminateBackends (url: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`SELECT pg_terminate_backend(pid) FROM (
      SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'order-ops-gateway%' AND pid <> pg_backend_pid() ORDER BY random() LIMIT $1) chosen`, [count])
  } finally {
    await client.end()
  }
}
