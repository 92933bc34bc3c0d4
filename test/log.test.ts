import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, type LogLevel } from '../src/platform/log.ts'

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
