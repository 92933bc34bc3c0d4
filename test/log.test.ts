import { spawn } from 'node:child_process'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger, type LogLevel } from '../src/platform/log.ts'
import { createTestDatabase } from './helpers/database.ts'
import { eventually } from './helpers/gateway.ts'
import { freePort, killAll, lines } from './helpers/processes.ts'

/** A logger writing into memory, and its lines parsed. */
function capture (level: LogLevel) {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
  const log = createLogger(level, { role: 'worker' }, { destination: stream })
  return { log, entries: () => text.split('\n').filter(line => line !== '').map(line => JSON.parse(line)) }
}

describe('the logger', () => {
  it('writes one JSON object a line: level by name, ISO time, bindings, fields, message', () => {
    const { log, entries } = capture('info')
    log.child({ queue: 'order.place' }).info('job settled', { jobId: 'j1', bulkUuid: 'b1' })
    expect(entries()).toEqual([expect.objectContaining({ level: 'info', role: 'worker', queue: 'order.place', jobId: 'j1', bulkUuid: 'b1', msg: 'job settled' })])
    expect(new Date(entries()[0].time).toISOString()).toBe(entries()[0].time)
  })

  it('writes an error with its type, message, stack, code and cause chain', () => {
    const { log, entries } = capture('info')
    const cause = Object.assign(new Error('connection terminated'), { code: '57P01' })
    log.error('batch failed', { error: new Error('could not settle the batch', { cause }) })
    const [entry] = entries()
    expect(entry.error).toMatchObject({ type: 'Error', message: 'could not settle the batch', cause: { message: 'connection terminated', code: '57P01' } })
    expect(entry.error.stack).toMatch(/^Error: could not settle the batch\n {4}at /)
    expect(entry.error.cause.stack).toMatch(/^Error: connection terminated\n {4}at /)
  })

  it('leaves out what is below LOG_LEVEL, and writes nothing at silent', () => {
    const warn = capture('warn')
    warn.log.info('not shown')
    warn.log.debug('not shown')
    warn.log.warn('shown')
    expect(warn.entries().map(entry => entry.msg)).toEqual(['shown'])
    const silent = capture('silent')
    silent.log.error('not shown')
    expect(silent.entries()).toEqual([])
  })
})

describe('a process whose stderr is not read', () => {
  afterAll(killAll)

  // Lines are written without blocking: a synchronous write into a full pipe sleeps the whole process
  // (sonic-boom tries again every 100 ms), so a log collector that fell behind stopped the gateway.
  it('goes on answering, and its lines come out once stderr is read again', async () => {
    const db = await createTestDatabase()
    const port = await freePort()
    const token = 'stalled-stderr-test-admin-token-0123456789'
    const metricsToken = 'stalled-stderr-test-metrics-token-0123456789'
    const child = spawn(process.execPath, ['src/main.ts', '--role', 'gateway'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ADMIN_TOKEN: token, RATE_LIMIT_PER_MINUTE: '0', METRICS_TOKEN: metricsToken },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let text = ''
    child.stderr.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
    const exited = new Promise(resolve => child.once('close', resolve))
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.ok === true ? true : undefined, 60_000, 'the gateway to be ready')
      // Nothing reads the pipe from here: it holds 64 kB, and each request logs a line of about 300 bytes.
      child.stderr.pause()
      const requests = 1500
      for (let i = 0; i < requests; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: `query Stalled${i} { __typename }` }),
          signal: AbortSignal.timeout(10_000)
        })
        expect(response.status).toBe(200)
      }
      child.stderr.resume()
      const logged = await eventually(async () => {
        const names = new Set(lines(text).map(line => JSON.parse(line) as { operationName?: string }).map(entry => entry.operationName).filter(name => name?.startsWith('Stalled')))
        return names.size === requests ? names : undefined
      }, 30_000, 'every request\'s line')
      expect(logged.size).toBe(requests)
      // Held, not dropped: far below the buffer's bound.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()
      expect(metrics).toMatch(/^order_ops_log_lines_dropped_total 0$/m)
    } finally {
      child.kill('SIGTERM')
      await exited
      await db.drop()
    }
  })
})
