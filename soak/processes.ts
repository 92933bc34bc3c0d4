import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmbeddedPostgres, stopChild, type EmbeddedCluster } from '../src/platform/db/embedded.ts'
import { createLogger } from '../src/platform/log.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The message each role logs once it is ready (src/app.ts). */
const READY = { gateway: 'GraphQL ready', worker: 'workers started' } as const

export interface RoleOptions {
  readonly role: 'gateway' | 'worker'
  /** The gateway's port, kept across restarts so that clients find it again. */
  readonly port: number
  readonly env: Readonly<Record<string, string>>
  /** Where the process's log goes, line by line. */
  readonly log: (line: string) => void
}

/**
 * A gateway or worker process of the real entry point (src/main.ts) that the soak can kill with
 * SIGKILL and start again, as an orchestrator would restart it.
 */
export class RoleProcess {
  readonly options: RoleOptions
  #child: ChildProcess | undefined
  kills = 0

  constructor (options: RoleOptions) {
    this.options = options
  }

  get endpoint (): string {
    return `http://127.0.0.1:${this.options.port}/graphql`
  }

  get running (): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
  }

  async start (): Promise<void> {
    const child = spawn(process.execPath, ['src/main.ts', '--role', this.options.role], {
      cwd: ROOT,
      env: { ...process.env, ...this.options.env, PORT: String(this.options.port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    this.#child = child
    await new Promise<void>((resolve, reject) => {
      let buffered = ''
      let done = false
      const timer = setTimeout(() => finish(new Error(`the ${this.options.role} did not start within 90 s`)), 90_000)
      const finish = (error?: Error): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        if (error) reject(error)
        else resolve()
      }
      child.once('exit', (code, signal) => finish(new Error(`the ${this.options.role} exited (${code ?? signal}) while starting`)))
      child.stderr!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8')
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          this.options.log(line)
          if (line.includes(READY[this.options.role])) finish()
        }
      })
    })
  }

  /** SIGKILL: no graceful stop, as a crash or an OOM kill. */
  async kill (): Promise<void> {
    const child = this.#child
    if (!child || !this.running) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    this.kills += 1
  }

  /** SIGTERM, the graceful stop (SIGKILL after 20 s). */
  async stop (): Promise<void> {
    if (this.#child && this.running) await stopChild(this.#child, 'SIGTERM', 'SIGKILL')
  }
}

/** The soak's own PostgreSQL: an embedded cluster on a fixed port, which it can stop and start again. */
export class SoakDatabase {
  readonly #dataDir: string
  readonly #port: number
  #cluster: EmbeddedCluster | undefined
  restarts = 0

  constructor (dataDir: string, port: number) {
    this.#dataDir = dataDir
    this.#port = port
  }

  get url (): string {
    return this.#cluster!.url
  }

  async start (): Promise<void> {
    this.#cluster = await startEmbeddedPostgres({
      dataDir: this.#dataDir,
      port: this.#port,
      log: createLogger('warn'),
      settings: { max_connections: '300' }
    })
  }

  /** A restart as an operator or a failover does it: every connection is cut. */
  async restart (): Promise<void> {
    await this.#cluster!.stop()
    await this.start()
    this.restarts += 1
  }

  async stop (): Promise<void> {
    await this.#cluster?.stop()
  }
}
