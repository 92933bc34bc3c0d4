import type pg from 'pg'
import { pendingMigrations } from './db/migrate.ts'

/**
 * Readiness (issue 13, "Health"): what an orchestrator asks before sending a process work, on
 * `GET /ready` (src/api/health.ts). Each fact is a probe the composition root adds: the database
 * answers, every migration is applied, pg-boss has started, each LISTEN connection is up.
 */

/** A probe's finding: null when ready, else a short reason a person can act on (never another system's message). */
export type Probe = () => Promise<string | null> | string | null

/** What `/ready` answers: each probe's name with `ok` or its reason. */
export interface ReadinessReport {
  readonly ready: boolean
  readonly checks: Readonly<Record<string, string>>
}

export interface ReadinessOptions {
  /** How long one probe may take before it counts as failed; default 2000 ms. */
  readonly probeTimeoutMs?: number
  /** How long a report is reused, so that a flood of `/ready` costs the database one round a second; default 1000 ms. */
  readonly cacheMs?: number
}

const OK = 'ok'

export class Readiness {
  readonly #probes = new Map<string, Probe>()
  readonly #probeTimeoutMs: number
  readonly #cacheMs: number
  #phase: 'starting' | 'started' | 'stopping' = 'starting'
  #last: { at: number, report: Promise<ReadinessReport> } | undefined

  constructor (options: ReadinessOptions = {}) {
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 2000
    this.#cacheMs = options.cacheMs ?? 1000
  }

  /** Adds a fact to check; names are shown as given (`database`, `listener:bulk_changed`). */
  add (name: string, probe: Probe): void {
    this.#probes.set(name, probe)
  }

  /** Every role has started: ready from now on if the probes agree (until then `process` says `starting`). */
  started (): void {
    if (this.#phase === 'starting') this.#phase = 'started'
    this.#last = undefined
  }

  /** From now on not ready: the process is stopping, and should get no new work. */
  stopping (): void {
    this.#phase = 'stopping'
    this.#last = undefined
  }

  /** Every probe's finding, run at once; a report younger than `cacheMs` is answered again. */
  async report (): Promise<ReadinessReport> {
    const now = Date.now()
    if (this.#last === undefined || now - this.#last.at >= this.#cacheMs) this.#last = { at: now, report: this.#run() }
    return await this.#last.report
  }

  async #run (): Promise<ReadinessReport> {
    const entries = await Promise.all([...this.#probes].map(async ([name, probe]) => [name, await this.#probe(probe)] as const))
    const checks: Record<string, string> = { process: this.#phase === 'started' ? OK : this.#phase, ...Object.fromEntries(entries) }
    return { ready: Object.values(checks).every(finding => finding === OK), checks }
  }

  async #probe (probe: Probe): Promise<string> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<string>(resolve => { timer = setTimeout(() => resolve(`no answer within ${this.#probeTimeoutMs} ms`), this.#probeTimeoutMs) })
    try {
      const finding = await Promise.race([Promise.resolve().then(probe).catch((error: unknown) => failure(error)), timeout])
      return finding ?? OK
    } finally {
      clearTimeout(timer)
    }
  }
}

/** A thrown error as a reason: its SQLSTATE or errno, never its text (which may name hosts, users or data). */
function failure (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? `failed (${code})` : 'failed'
}

/** The database answers, on `pool` (the process's own dedicated health connection, so a busy work pool does not look like an outage). */
export function databaseProbe (pool: pg.Pool): Probe {
  return async () => {
    await pool.query('SELECT 1')
    return null
  }
}

/** Every migration of this build is applied. */
export function migrationsProbe (pool: pg.Pool): Probe {
  return async () => {
    const pending = await pendingMigrations(pool)
    return pending.length === 0 ? null : `not applied: ${pending.map(version => String(version).padStart(4, '0')).join(', ')}`
  }
}

/** A LISTEN connection is up. */
export function listenerProbe (listening: () => boolean): Probe {
  return () => listening() ? null : 'not connected (reconnecting)'
}
