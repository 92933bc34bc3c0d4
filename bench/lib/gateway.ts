import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, stopChild as stopProcess } from '../../src/platform/db/embedded.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Which roles the process plays: `all` is `npm start`, the others `npm run gateway` / `npm run worker`. */
export type GatewayRole = 'all' | 'gateway' | 'worker'

export interface GatewayOptions {
  readonly databaseUrl: string
  /** ADMIN_TOKEN the process ensures at start; the suite authenticates with it. */
  readonly token: string
  readonly role: GatewayRole
  /** More environment (WORKER_CONCURRENCY and the like). */
  readonly env?: Readonly<Record<string, string>>
}

/** A gateway or worker process of the real entry point, src/main.ts. */
export interface GatewayProcess {
  readonly pid: number
  /** `http://127.0.0.1:port/graphql`; undefined for a worker. */
  readonly endpoint: string | undefined
  /** Current and peak resident set size in bytes (/proc, Linux). */
  memory (): { rss: number, peak: number }
  stop (): Promise<void>
}

/** The message each role logs at info level once it is ready (src/app.ts). */
const READY = { gateway: 'GraphQL ready', worker: 'workers started' } as const

export async function startGateway (options: GatewayOptions): Promise<GatewayProcess> {
  const hasGateway = options.role !== 'worker'
  const port = hasGateway ? await freePort() : 0
  // BENCH_CPU_PROF=<folder>: a V8 CPU profile of each process, written there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...profile, 'src/main.ts', '--role', options.role], {
    cwd: ROOT,
    env: {
      ...process.env,
      // Load is the point here: a rate limit would measure its refusals (status polling turns it on in `env`).
      RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      // The chain's emails, labels and ERP export: in a folder per database, not in the checkout's .data.
      DATA_DIR: dataDirOf(options.databaseUrl),
      PORT: String(port),
      HOST: '127.0.0.1',
      // Info, to see the ready lines; only warnings and errors are passed on.
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: options.token,
      WS_IDLE_TIMEOUT_SECONDS: '0'
    },
    stdio: ['ignore', 'inherit', 'pipe']
  })
  await waitForReady(child, hasGateway ? READY.gateway : READY.worker, options.role)
  return {
    pid: child.pid!,
    endpoint: hasGateway ? `http://127.0.0.1:${port}/graphql` : undefined,
    memory: () => memoryOf(child.pid!),
    stop: async () => await stopChild(child)
  }
}

/** One DATA_DIR per benchmark database, shared by its processes as a deployment shares one, removed by the OS's tmp cleaning. */
function dataDirOf (databaseUrl: string): string {
  const dir = path.join(os.tmpdir(), 'order-ops-bench-data', new URL(databaseUrl).pathname.slice(1) || 'default')
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

async function waitForReady (child: ChildProcess, ready: string, role: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let buffered = ''
    let done = false
    const timer = setTimeout(() => fail(new Error(`the ${role} process was not ready within 60 s`)), 60_000)
    const fail = (error: Error): void => { if (!done) { done = true; clearTimeout(timer); reject(error) } }
    child.once('exit', (code) => fail(new Error(`the ${role} process exited with ${code} while starting`)))
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        // The process logs JSON lines (src/platform/log.ts): show warnings, errors and anything not a log line.
        if (/"level":"(warn|error)"/.test(line) || !line.startsWith('{')) process.stderr.write(`[${role}] ${line}\n`)
        if (!done && line.includes(ready)) { done = true; clearTimeout(timer); resolve() }
      }
    })
  })
}

function memoryOf (pid: number): { rss: number, peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const bytes = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024
  return { rss: bytes('VmRSS'), peak: bytes('VmHWM') }
}

/** SIGTERM (the graceful stop), SIGKILL after 20 s. */
export async function stopChild (child: ChildProcess): Promise<void> {
  await stopProcess(child, 'SIGTERM', 'SIGKILL')
}
