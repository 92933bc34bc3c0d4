import fs from 'node:fs/promises'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createErpFile, markerDirOf } from '../src/adapters/erp/file.ts'
import { createErpWebhook } from '../src/adapters/erp/webhook.ts'
import { createSmtpMailer } from '../src/adapters/email/smtp.ts'
import { keyHash } from '../src/adapters/keys.ts'
import { TransientOutsideError } from '../src/adapters/ports.ts'
import { loadConfig } from '../src/config/config.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool } from './helpers/database.ts'
import { eventually } from './helpers/gateway.ts'
import { LoopbackReceiver, signatureValid } from './helpers/receiver.ts'

/** The outside systems reached over the network or a shared file: the ERP (webhook and file) and SMTP. */

const log = createLogger('silent')
const SECRET = 'test-erp-secret-7c1e9a3b5d'
let dataDir: string
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'adapters-remote-'))
})
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true })
})

/** The error a promise rejects with (fails the test when it fulfils). */
async function rejection (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
}

const document = { orderNumber: 'ORD-00000042', total: '61.9700', currency: 'EUR', lines: [{ sku: 'SKU-MUG', quantity: 1 }] }

/** An ERP on loopback. Paths choose its answers: `/ok` 201 with a reference, `/dup` 409, `/down` 500, `/bad` 422, `/slow` never. */
function erpServer (): LoopbackReceiver {
  return new LoopbackReceiver(({ path }) => {
    switch (path) {
      case '/ok': return { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reference: 'ERP-2026-0042' }) }
      case '/dup': return { status: 409 }
      case '/down': return { status: 500, body: 'maintenance' }
      case '/bad': return { status: 422, headers: { 'content-type': 'application/json' }, body: '{"error":"unknown sku"}' }
      default: return null // `/slow`: no answer
    }
  })
}

describe('ERP webhook', () => {
  const erp = erpServer()
  beforeAll(async () => await erp.start())
  afterAll(async () => await erp.stop())
  const exporter = (at: string, timeoutMs = 5000): ReturnType<typeof createErpWebhook> =>
    createErpWebhook({ url: erp.url(at), secret: SECRET, timeoutMs, now: () => new Date() }, log)

  it('POSTs the signed document with its Idempotency-Key and answers the ERP\'s reference', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, ERP_WEBHOOK_URL: erp.url('/ok'), ERP_WEBHOOK_SECRET: SECRET }).adapters.erp
    expect(config).toMatchObject({ webhookUrl: erp.url('/ok'), webhookSecret: SECRET })
    const webhook = createErpWebhook({ url: config.webhookUrl!, secret: config.webhookSecret!, timeoutMs: config.timeoutMs, now: () => new Date() }, log)
    expect(await webhook.exportOrder({ idempotencyKey: 'o-1:exportErp', attempt: 1, document })).toEqual({ erpReference: 'ERP-2026-0042' })
    const [received] = erp.to('/ok')
    expect(received).toMatchObject({ body: JSON.stringify(document) })
    expect(signatureValid(SECRET, received!.headers, received!.body)).toBe(true)
    expect(received!.headers).toMatchObject({ 'idempotency-key': 'o-1:exportErp', 'content-type': 'application/json', 'x-webhook-attempt': '1' })
  })

  it('takes 409 (received already) as exported, 5xx and timeouts as transient, other 4xx as permanent', async () => {
    expect(await exporter('/dup').exportOrder({ idempotencyKey: 'o-2:exportErp', attempt: 2, document })).toEqual({ erpReference: 'erp:o-2:exportErp' })

    const down = await rejection(exporter('/down').exportOrder({ idempotencyKey: 'o-3:exportErp', attempt: 1, document }))
    expect(down).toBeInstanceOf(TransientOutsideError)
    expect(down).toMatchObject({ system: 'erp', message: 'erp: the ERP answered HTTP 500: maintenance' })

    const bad = await rejection(exporter('/bad').exportOrder({ idempotencyKey: 'o-4:exportErp', attempt: 1, document }))
    expect(bad).not.toBeInstanceOf(TransientOutsideError)
    expect((bad as Error).message).toMatch(/^erp: the ERP answered HTTP 422: \{"error":"unknown sku"\} \(not retried/)

    const slow = await rejection(exporter('/slow', 200).exportOrder({ idempotencyKey: 'o-5:exportErp', attempt: 1, document }))
    expect(slow).toBeInstanceOf(TransientOutsideError)
    expect((slow as Error).message).toBe('erp: no answer within 200 ms')

    const closed = net.createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    const refused = createErpWebhook({ url: `http://127.0.0.1:${port}/`, secret: SECRET, timeoutMs: 5000, now: () => new Date() }, log)
    expect(await rejection(refused.exportOrder({ idempotencyKey: 'o-6:exportErp', attempt: 1, document }))).toBeInstanceOf(TransientOutsideError)
    expect(erp.received.every(r => signatureValid(SECRET, r.headers, r.body))).toBe(true)
  })
})

describe('ERP export file', () => {
  async function lines (file: string): Promise<any[]> {
    return (await fs.readFile(file, 'utf8')).split('\n').filter(line => line !== '').map(line => JSON.parse(line))
  }

  it('appends one line per key, however often the key is exported', async () => {
    const exportFile = path.join(dataDir, 'once', 'erp-export.jsonl')
    const exporter = createErpFile({ exportFile, now: () => new Date('2026-01-15T10:00:00Z') }, log)
    const first = await exporter.exportOrder({ idempotencyKey: 'o-1:exportErp', attempt: 1, document })
    expect(first).toEqual({ erpReference: 'erp-file:o-1:exportErp' })
    expect(await exporter.exportOrder({ idempotencyKey: 'o-1:exportErp', attempt: 1, document })).toEqual(first)
    expect(await exporter.exportOrder({ idempotencyKey: 'o-1:exportErp', attempt: 2, document })).toEqual(first)
    // Racing calls of one process take turns.
    await Promise.all([1, 2, 3].map(async () => await exporter.exportOrder({ idempotencyKey: 'o-2:exportErp', attempt: 1, document })))
    expect(await lines(exportFile)).toEqual([
      { idempotencyKey: 'o-1:exportErp', exportedAt: '2026-01-15T10:00:00.000Z', document },
      { idempotencyKey: 'o-2:exportErp', exportedAt: '2026-01-15T10:00:00.000Z', document }
    ])
    expect(await fs.readdir(markerDirOf(exportFile))).toEqual([keyHash('o-1:exportErp'), keyHash('o-2:exportErp')].sort())
  })

  /** What the first attempt of `key` did before it died: noted where the file ended (its pending marker), then began its line. */
  async function firstAttemptDied (exportFile: string, key: string, written: string): Promise<void> {
    const size = await fs.stat(exportFile).then(stat => stat.size, () => 0)
    await fs.mkdir(markerDirOf(exportFile), { recursive: true })
    await fs.writeFile(path.join(markerDirOf(exportFile), `${keyHash(key)}.pending`), String(size))
    await fs.appendFile(exportFile, written)
  }

  it('after a crash between the append and the marker, a retry finds the line instead of appending again', async () => {
    const exportFile = loadConfig({ DATA_DIR: path.join(dataDir, 'crash') }).adapters.erp.exportFile
    expect(markerDirOf(exportFile)).toBe(path.join(dataDir, 'crash', 'erp-export.keys'))
    const exporter = createErpFile({ exportFile, now: () => new Date() }, log)
    await exporter.exportOrder({ idempotencyKey: 'o-7:exportErp', attempt: 1, document })
    await firstAttemptDied(exportFile, 'o-8:exportErp', JSON.stringify({ idempotencyKey: 'o-8:exportErp', exportedAt: new Date().toISOString(), document }) + '\n')
    expect(await exporter.exportOrder({ idempotencyKey: 'o-8:exportErp', attempt: 2, document })).toEqual({ erpReference: 'erp-file:o-8:exportErp' })
    expect(await exporter.exportOrder({ idempotencyKey: 'o-8:exportErp', attempt: 3, document })).toEqual({ erpReference: 'erp-file:o-8:exportErp' })
    expect((await lines(exportFile)).map(line => line.idempotencyKey)).toEqual(['o-7:exportErp', 'o-8:exportErp'])
    expect(await fs.readdir(markerDirOf(exportFile))).toEqual([keyHash('o-7:exportErp'), keyHash('o-8:exportErp')].sort())

    // One that died mid-write left a torn line: the next export starts a line of its own.
    await firstAttemptDied(exportFile, 'o-9:exportErp', '{"idempotencyKey":"o-9:expo')
    expect(await exporter.exportOrder({ idempotencyKey: 'o-9:exportErp', attempt: 2, document })).toEqual({ erpReference: 'erp-file:o-9:exportErp' })
    const text = (await fs.readFile(exportFile, 'utf8')).split('\n')
    expect(text.slice(2)).toEqual(['{"idempotencyKey":"o-9:expo', expect.stringContaining('"idempotencyKey":"o-9:exportErp"'), ''])
  })

  it('reads only what was appended since a key\'s first attempt, and nothing when no attempt reached the file (issue 13, item 7)', async () => {
    const exportFile = path.join(dataDir, 'indexed', 'erp-export.jsonl')
    const looked: Array<Record<string, unknown>> = []
    const recording = { ...log, info: (message: string, fields?: Record<string, unknown>) => { if (message.startsWith('looked for')) looked.push(fields ?? {}) } }
    const exporter = createErpFile({ exportFile, now: () => new Date() }, recording)
    // An export file grown by 20,000 orders.
    const earlier = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ idempotencyKey: `old-${i}:exportErp`, exportedAt: '2026-01-01T00:00:00.000Z', document }) + '\n')
    await fs.mkdir(path.dirname(exportFile), { recursive: true })
    await fs.writeFile(exportFile, earlier.join(''))
    const grown = (await fs.stat(exportFile)).size

    // o-50's first attempt appended its line and died; two more orders were exported after it.
    const mine = JSON.stringify({ idempotencyKey: 'o-50:exportErp', exportedAt: new Date().toISOString(), document }) + '\n'
    await firstAttemptDied(exportFile, 'o-50:exportErp', mine)
    await exporter.exportOrder({ idempotencyKey: 'o-51:exportErp', attempt: 1, document })
    await exporter.exportOrder({ idempotencyKey: 'o-52:exportErp', attempt: 1, document })
    expect(looked).toEqual([])
    await exporter.exportOrder({ idempotencyKey: 'o-50:exportErp', attempt: 2, document })
    const after = (await fs.stat(exportFile)).size
    expect(looked).toEqual([{ idempotencyKey: 'o-50:exportErp', from: grown, bytesSince: after - grown, found: true }])
    expect(after - grown).toBeLessThan(grown / 100)

    // A retry whose earlier attempts never reached the file (they failed before it) appends without reading it.
    await exporter.exportOrder({ idempotencyKey: 'o-53:exportErp', attempt: 4, document })
    expect(looked).toHaveLength(1)
    expect((await lines(exportFile)).slice(20_000).map(line => line.idempotencyKey)).toEqual(['o-50:exportErp', 'o-51:exportErp', 'o-52:exportErp', 'o-53:exportErp'])
  })
})

/**
 * An SMTP server on loopback, enough of RFC 5321 for nodemailer: greeting, EHLO (no STARTTLS, no
 * AUTH), MAIL, RCPT, DATA, QUIT. Recipients at `busy.example` get 451 (try later), at
 * `nobody.example` 550 (no such user); a message to `slow.example` is accepted 1.5 s after its data.
 */
class SmtpServer {
  readonly messages: string[] = []
  readonly #server: net.Server
  port = 0

  constructor () {
    this.#server = net.createServer((socket) => {
      let buffer = ''
      let data = false
      let slow = false
      const reply = (line: string): void => { socket.write(`${line}\r\n`) }
      reply('220 test ESMTP')
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('latin1')
        for (;;) {
          if (data) {
            const end = buffer.indexOf('\r\n.\r\n')
            if (end === -1) return
            const message = buffer.slice(0, end)
            buffer = buffer.slice(end + 5)
            data = false
            if (slow) setTimeout(() => { this.messages.push(message); reply('250 queued') }, 1500)
            else { this.messages.push(message); reply('250 queued') }
            continue
          }
          const end = buffer.indexOf('\r\n')
          if (end === -1) return
          const command = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const verb = command.slice(0, 4).toUpperCase()
          if (verb === 'RCPT') slow = command.includes('@slow.example')
          if (verb === 'EHLO' || verb === 'HELO') reply('250 test')
          else if (verb === 'MAIL') reply('250 ok')
          else if (verb === 'RCPT') reply(command.includes('@busy.example') ? '451 try again later' : command.includes('@nobody.example') ? '550 no such user' : '250 ok')
          else if (verb === 'DATA') { data = true; reply('354 go ahead') } else if (verb === 'QUIT') { reply('221 bye'); socket.end() } else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok')
          else reply('502 not implemented')
        }
      })
      socket.on('error', () => {})
    })
  }

  async start (): Promise<void> {
    await new Promise<void>(resolve => this.#server.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.address() as AddressInfo).port
  }

  async stop (): Promise<void> {
    await new Promise(resolve => this.#server.close(resolve))
  }
}

describe('email over SMTP', () => {
  const smtp = new SmtpServer()
  beforeAll(async () => await smtp.start())
  afterAll(async () => await smtp.stop())

  it('sends once per key with the Message-ID of the key; 4xx is transient, 5xx permanent', async () => {
    const config = loadConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'Shop <shop@example.com>' }).adapters.mail
    const db = await createTestDatabase()
    const pool = testPool(db.url, 2)
    await migrate(pool, log)
    const mailer = createSmtpMailer({ smtpUrl: config.smtpUrl!, from: config.from, timeoutMs: config.timeoutMs }, { db: pool, log })
    try {
      const call = { idempotencyKey: 'o-1:sendConfirmation', to: 'ada@example.com', subject: 'Order ORD-00000042', text: 'Thank you.' }
      const first = await mailer.send({ ...call, attempt: 1 })
      // A retry of the same key (its step's transaction rolled back) finds it sent and sends nothing.
      const second = await mailer.send({ ...call, attempt: 2 })
      expect(second).toEqual(first)
      expect(smtp.messages).toHaveLength(1)
      expect(smtp.messages[0]).toContain(`Message-ID: ${first.messageId}\r\n`)
      expect(smtp.messages[0]).toContain('From: Shop <shop@example.com>\r\n')
      // Should the record be missing (the server accepted, then the worker died), the repeat carries the same Message-ID.
      await pool.query('DELETE FROM sent_email')
      await mailer.send({ ...call, attempt: 3 })
      expect(smtp.messages).toHaveLength(2)
      expect(smtp.messages[1]).toContain(`Message-ID: ${first.messageId}\r\n`)

      const busy = await rejection(mailer.send({ ...call, idempotencyKey: 'o-2:sendConfirmation', to: 'ada@busy.example', attempt: 1 }))
      expect(busy).toBeInstanceOf(TransientOutsideError)
      const nobody = await rejection(mailer.send({ ...call, idempotencyKey: 'o-3:sendConfirmation', to: 'ada@nobody.example', attempt: 1 }))
      expect(nobody).toBeInstanceOf(Error)
      expect(nobody).not.toBeInstanceOf(TransientOutsideError)
      const { rows } = await pool.query('SELECT idempotency_key FROM sent_email ORDER BY 1')
      expect(rows).toEqual([{ idempotency_key: 'o-1:sendConfirmation' }])
    } finally {
      mailer.close()
      await pool.end()
      await db.drop()
    }
  })
})

describe('an attempt abandoned while its call is under way (issue 13, item 6)', () => {
  const erp = erpServer()
  const smtp = new SmtpServer()
  beforeAll(async () => { await erp.start(); await smtp.start() })
  afterAll(async () => { await erp.stop(); await smtp.stop() })

  it('stops waiting for the ERP at once, long before ERP_TIMEOUT_MS', async () => {
    const exporter = createErpWebhook({ url: erp.url('/slow'), secret: SECRET, timeoutMs: 60_000, now: () => new Date() }, log)
    // Abandoned after 300 ms: it fails saying so, not with the 60 s timeout the ERP was given.
    const error = await rejection(exporter.exportOrder({ idempotencyKey: 'o-20:exportErp', attempt: 1, document, signal: AbortSignal.timeout(300) }))
    expect(error).toBeInstanceOf(TransientOutsideError)
    expect((error as Error).message).toBe('erp: the attempt was abandoned (it outlived its expiry, or the worker is stopping)')
    // Aborted before it began: nothing is sent at all.
    const before = erp.received.length
    await rejection(exporter.exportOrder({ idempotencyKey: 'o-21:exportErp', attempt: 1, document, signal: AbortSignal.abort() }))
    expect(erp.received).toHaveLength(before)
  })

  it('over SMTP, records an acceptance that comes after the attempt gave up, so the retry sends nothing', async () => {
    const db = await createTestDatabase()
    const pool = testPool(db.url, 2)
    await migrate(pool, log)
    const mailer = createSmtpMailer({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'shop@example.com', timeoutMs: 30_000 }, { db: pool, log })
    try {
      const call = { idempotencyKey: 'o-22:emailInvoice', to: 'ada@slow.example', subject: 'Invoice', text: 'Attached.' }
      const error = await rejection(mailer.send({ ...call, attempt: 1, signal: AbortSignal.timeout(300) }))
      expect((error as Error).message).toBe('email: the attempt was abandoned (it outlived its expiry, or the worker is stopping)')
      // The server accepts the message 1.5 s after its data; the send left running records it.
      await eventually(async () => (await pool.query('SELECT 1 FROM sent_email WHERE idempotency_key = $1', [call.idempotencyKey])).rowCount === 1 ? true : undefined,
        10_000, 'the late acceptance to be recorded')
      await mailer.send({ ...call, attempt: 2 })
      expect(smtp.messages.filter(message => message.includes('To: ada@slow.example'))).toHaveLength(1)
    } finally {
      mailer.close()
      await pool.end()
      await db.drop()
    }
  })
})
