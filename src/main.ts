import { ConfigError } from './platform/configError.ts'
import { loadConfig, parseRoles } from './config/config.ts'
import { startApp, type App } from './app.ts'
import { DatabaseUnavailableError } from './platform/db/database.ts'
import { EmbeddedPostgresError } from './platform/db/embedded.ts'
import { createLogger } from './platform/log.ts'
import { keepHeapTight } from './platform/heap.ts'

/** Entry point of `npm start`, `npm run gateway` and `npm run worker`. */
async function main (): Promise<void> {
  let app: App | undefined
  let log = createLogger('info')
  let stopping = false

  // Installed before starting, so that a signal during start-up (initdb can take seconds) still
  // stops what has started: the app is stopped as soon as its start returns.
  const stop = (): void => {
    if (!app) return
    app.stop().then(
      () => { log.info('stopped'); process.exit(0) },
      (error: Error) => { log.error('stop failed', { error }); process.exit(1) }
    )
  }
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn('second signal: exiting without waiting', { signal })
      process.exit(1)
    }
    stopping = true
    log.info('stopping: no new requests; waiting for in-flight jobs', { signal })
    stop()
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  try {
    const config = loadConfig(process.env, parseRoles(process.argv.slice(2)))
    log = createLogger(config.logLevel, { role: config.roles.join('+') })
    log.info('starting order-ops-gateway', { node: process.version, pid: process.pid })
    // A gateway's memory must not grow with an upload (issue 17, item 5); a process of the worker role alone keeps V8's default sizing.
    if (config.roles.includes('gateway')) keepHeapTight()
    app = await startApp(config, log)
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof EmbeddedPostgresError
    process.stderr.write(`order-ops-gateway: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  }
  if (stopping) stop()
}

await main()
