import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import bwipjs from 'bwip-js'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCarrierSimulator, SIMULATED_LEG_MS, TRACKING_STATUS } from '../src/adapters/carrier/simulator.ts'
import { invoicePdf } from '../src/adapters/documents/invoice.ts'
import { createOutsideSystems } from '../src/adapters/index.ts'
import { keyFileName } from '../src/adapters/keys.ts'
import { chargeFor, countCharges, createPaymentSimulator, DECLINE_REASON, refundsOf } from '../src/adapters/payment/simulator.ts'
import { TransientOutsideError, type InvoiceDocument, type OutsideSystems } from '../src/adapters/ports.ts'
import { createCommandPrinter } from '../src/adapters/printer/command.ts'
import { ConfigError } from '../src/platform/configError.ts'
import { loadConfig } from '../src/config/config.ts'
import { splitCommand } from '../src/config/adapters.ts'
import type { AdaptersConfig } from '../src/adapters/options.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { createLogger } from '../src/platform/log.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'

const log = createLogger('silent')
let db: TestDatabase
let pool: pg.Pool
let dataDir: string
beforeAll(async () => {
  db = await createTestDatabase()
  pool = testPool(db.url, 6)
  await migrate(pool, log)
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'adapters-'))
})
afterAll(async () => {
  await pool.end()
  await db.drop()
  await fs.rm(dataDir, { recursive: true, force: true })
})

let keys = 0
/** A key no other test uses. */
const key = (step: string): string => `order-${++keys}-${Date.now()}:${step}`

/** Adapters' configuration as loadConfig makes it, from these variables, with files under a fresh folder. */
async function adaptersConfig (env: Record<string, string> = {}): Promise<AdaptersConfig> {
  const dir = await fs.mkdtemp(path.join(dataDir, 'run-'))
  return loadConfig({ DATA_DIR: dir, ...env }).adapters
}

/** The error a promise rejects with (fails the test when it fulfils). */
async function rejection (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
}

/** A random source that answers these numbers in turn (then fails the test: a draw nobody expected). */
function scripted (...draws: number[]): () => number {
  return () => {
    const next = draws.shift()
    if (next === undefined) throw new Error('more random draws than scripted')
    return next
  }
}

const address = { name: 'Ada Lovelace', street: '12 Analytical Street', city: 'London', postcode: 'NW1 2AB', country: 'GB' }
const invoice: InvoiceDocument = {
  invoiceNumber: 'INV-00000042',
  orderNumber: 'ORD-00000042',
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  total: '61.9700',
  lines: [{ sku: 'SKU-RED-SHIRT-XL', quantity: 2, unitPrice: '19.9900' }, { sku: 'SKU-MUG', quantity: 1, unitPrice: '21.9900' }],
  address,
  createdAt: '2026-01-15T10:00:00.000Z'
}
const charge = { amount: '61.9700', currency: 'EUR', orderNumber: 'ORD-00000042' }

describe('payment simulator', () => {
  const payment = (): ReturnType<typeof createPaymentSimulator> =>
    createPaymentSimulator({ latencyMs: 0, declineRate: 0, failureRate: 0 }, { pool, log, random: scripted() })

  it('captures tok_visa once for two calls with the same key, answering the same paymentId', async () => {
    const idempotencyKey = key('capturePayment')
    const before = await countCharges(pool)
    const first = await payment().capture({ idempotencyKey, attempt: 1, token: 'tok_visa', ...charge })
    const second = await payment().capture({ idempotencyKey, attempt: 2, token: 'tok_visa', ...charge })
    expect(first).toEqual({ outcome: 'captured', paymentId: expect.stringMatching(/^pay_[0-9a-f]{24}$/) })
    expect(second).toEqual(first)
    expect(await countCharges(pool)).toBe(before + 1)
    expect(await chargeFor(pool, idempotencyKey)).toMatchObject({ outcome: 'CAPTURED', amount: '61.9700', attempts: 2, payment_id: (first as { paymentId: string }).paymentId })
  })

  it('charges once when calls with one key race', async () => {
    const idempotencyKey = key('capturePayment')
    const before = await countCharges(pool)
    const results = await Promise.all([1, 2, 3, 4].map(async attempt => await payment().capture({ idempotencyKey, attempt, token: 'tok_visa', ...charge })))
    expect(new Set(results.map(result => JSON.stringify(result))).size).toBe(1)
    expect(await countCharges(pool)).toBe(before + 1)
    expect(await chargeFor(pool, idempotencyKey)).toMatchObject({ attempts: 4 })
  })

  it('declines tok_chargeDeclined, and answers the same decline again', async () => {
    const idempotencyKey = key('capturePayment')
    const first = await payment().capture({ idempotencyKey, attempt: 1, token: 'tok_chargeDeclined', ...charge })
    expect(first).toEqual({ outcome: 'declined', reason: DECLINE_REASON.CARD_DECLINED })
    expect(await payment().capture({ idempotencyKey, attempt: 2, token: 'tok_chargeDeclined', ...charge })).toEqual(first)
  })

  it('fails tok_unavailable transiently on the first two attempts of a key, then captures for good', async () => {
    const idempotencyKey = key('capturePayment')
    for (const attempt of [1, 2]) {
      const error = await rejection(payment().capture({ idempotencyKey, attempt, token: 'tok_unavailable', ...charge }))
      expect(error).toBeInstanceOf(TransientOutsideError)
      expect(error).toMatchObject({ name: 'TransientOutsideError', system: 'payment' })
    }
    expect(await chargeFor(pool, idempotencyKey)).toMatchObject({ outcome: 'PENDING', attempts: 2 })
    const captured = await payment().capture({ idempotencyKey, attempt: 3, token: 'tok_unavailable', ...charge })
    expect(captured.outcome).toBe('captured')
    expect(await payment().capture({ idempotencyKey, attempt: 4, token: 'tok_unavailable', ...charge })).toEqual(captured)
  })

  it('applies PAYMENT_FAILURE_RATE and PAYMENT_DECLINE_RATE to other tokens, one draw per undecided call', async () => {
    const simulator = createPaymentSimulator({ latencyMs: 0, declineRate: 0.2, failureRate: 0.1 }, { pool, log, random: scripted(0.05, 0.2, 0.5) })
    const failed = key('capturePayment')
    expect(await rejection(simulator.capture({ idempotencyKey: failed, attempt: 1, token: 'tok_4242', ...charge }))).toBeInstanceOf(TransientOutsideError)
    expect(await simulator.capture({ idempotencyKey: failed, attempt: 2, token: 'tok_4242', ...charge })).toEqual({ outcome: 'declined', reason: DECLINE_REASON.SIMULATED })
    expect((await simulator.capture({ idempotencyKey: key('capturePayment'), attempt: 1, token: 'tok_4242', ...charge })).outcome).toBe('captured')
  })

  it('refuses a key reused for another amount', async () => {
    const idempotencyKey = key('capturePayment')
    await payment().capture({ idempotencyKey, attempt: 1, token: 'tok_visa', ...charge })
    const error = await rejection(payment().capture({ idempotencyKey, attempt: 2, token: 'tok_visa', ...charge, amount: '1.0000' }))
    expect(error).not.toBeInstanceOf(TransientOutsideError)
    expect((error as Error).message).toMatch(/first used for another charge/)
  })

  it('refunds once per key, and never more than was captured', async () => {
    const captured = await payment().capture({ idempotencyKey: key('capturePayment'), attempt: 1, token: 'tok_visa', ...charge })
    const paymentId = (captured as { paymentId: string }).paymentId
    const refundKey = key('refundPayment')
    const first = await payment().refund({ idempotencyKey: refundKey, attempt: 1, paymentId, amount: '61.9700', currency: 'EUR' })
    expect(first.refundId).toMatch(/^re_[0-9a-f]{24}$/)
    expect(await payment().refund({ idempotencyKey: refundKey, attempt: 2, paymentId, amount: '61.9700', currency: 'EUR' })).toEqual(first)
    expect(await refundsOf(pool, paymentId)).toHaveLength(1)
    const more = await rejection(payment().refund({ idempotencyKey: key('refundPayment'), attempt: 1, paymentId, amount: '0.0100', currency: 'EUR' }))
    expect((more as Error).message).toMatch(/exceeds the 0\.0000 left/)
    const unknown = await rejection(payment().refund({ idempotencyKey: key('refundPayment'), attempt: 1, paymentId: 'pay_nope', amount: '1', currency: 'EUR' }))
    expect((unknown as Error).message).toMatch(/no captured payment pay_nope/)
  })
})

describe('email to the outbox', () => {
  it('writes one .eml per key with the invoice PDF attached and a Message-ID made from the key', async () => {
    const config = await adaptersConfig()
    const systems = createOutsideSystems(config, { pool, log })
    const idempotencyKey = key('sendInvoice')
    const pdf = await systems.documents.invoicePdf(invoice)
    const message = {
      idempotencyKey,
      to: 'ada@example.com',
      subject: 'Your invoice INV-00000042',
      text: 'Thank you for your order ORD-00000042.',
      attachments: [{ filename: 'INV-00000042.pdf', content: pdf, contentType: 'application/pdf' }]
    }
    const first = await systems.mailer.send({ ...message, attempt: 1 })
    const second = await systems.mailer.send({ ...message, attempt: 2 })
    expect(second).toEqual(first)
    expect(first.messageId).toMatch(/^<[0-9a-f]{32}@order-ops-gateway>$/)

    const files = await fs.readdir(config.mail.outboxDir)
    expect(files).toEqual([`${keyFileName(idempotencyKey)}.eml`])
    const eml = await fs.readFile(path.join(config.mail.outboxDir, files[0]!), 'latin1')
    expect(eml).toContain(`Message-ID: ${first.messageId}\r\n`)
    expect(eml).toContain('To: ada@example.com\r\n')
    expect(eml).toContain('Subject: Your invoice INV-00000042\r\n')
    expect(eml).toContain('From: Order Ops Gateway <orders@localhost>\r\n')
    // The attachment's MIME part: its headers, a blank line, base64 up to the next boundary.
    const part = /Content-Type: application\/pdf; name=INV-00000042\.pdf\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+/=\r\n]+)\r\n--/.exec(eml)
    expect(part).not.toBeNull()
    const attached = Buffer.from(part![1]!.replace(/\r\n/g, ''), 'base64')
    expect(attached.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(attached.equals(pdf)).toBe(true)
    await systems.close()
  })
})

describe('invoice PDF', () => {
  it('is a PDF with the invoice and order numbers, the lines and the total, the same bytes every time', async () => {
    const pdf = await invoicePdf(invoice)
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF')
    expect((await invoicePdf(invoice)).equals(pdf)).toBe(true)
    const text = pdfText(pdf)
    for (const word of ['INV-00000042', 'ORD-00000042', 'SKU-RED-SHIRT-XL', '39.98 EUR', '61.97 EUR', 'Ada Lovelace', 'NW1 2AB London']) {
      expect(text, word).toContain(word)
    }
  })
})

/**
 * The text drawn in an uncompressed pdfkit PDF: each `[<hex> kerning <hex> …] TJ` is one run of
 * text in a standard font (WinAnsi bytes as hex, split where kerning applies), one line per run.
 */
function pdfText (pdf: Buffer): string {
  return [...pdf.toString('latin1').matchAll(/\[([^\]]*)\] TJ/g)]
    .map(run => [...run[1]!.matchAll(/<([0-9a-f]*)>/g)].map(hex => Buffer.from(hex[1]!, 'hex').toString('latin1')).join(''))
    .join('\n')
}

/**
 * The barcode drawn on a label, as Code 128 is written: the widths of bar, space, bar … in modules.
 * The bars are the filled rectangles (`x y w h re`) of the label's barcode row, left to right.
 */
function barsAndSpaces (pdf: Buffer): number[] {
  const bars = [...pdf.toString('latin1').matchAll(/^([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re$/gm)]
    .map(m => ({ x: Number(m[1]), width: Number(m[3]), height: Number(m[4]) }))
    .filter(bar => bar.height > 50)
    .sort((a, b) => a.x - b.x)
  expect(bars.length).toBeGreaterThan(10)
  const module = Math.min(...bars.map(bar => bar.width))
  return bars.flatMap((bar, i) => {
    const next = bars[i + 1]
    const modules = Math.round(bar.width / module)
    return next ? [modules, Math.round((next.x - bar.x - bar.width) / module)] : [modules]
  })
}

/** What Code 128 writes for `text`, in the same terms (bwip-js's encoder, independent of the drawing). */
function code128 (text: string): number[] {
  return (bwipjs.raw({ bcid: 'code128', text }) as unknown as Array<{ sbs: number[] }>)[0]!.sbs
}

describe('label printer', () => {
  const call = { orderNumber: 'ORD-00000042', trackingNumber: '1Z0123456789ABCDEF', carrier: 'SIMPOST', address }

  it('spools one PDF per key, with the tracking number as a Code 128 barcode', async () => {
    const config = await adaptersConfig()
    const systems = createOutsideSystems(config, { pool, log })
    const idempotencyKey = key('printLabel')
    const first = await systems.printer.printLabel({ idempotencyKey, attempt: 1, ...call })
    const second = await systems.printer.printLabel({ idempotencyKey, attempt: 2, ...call })
    expect(second).toEqual(first)
    expect(first.labelRef).toBe(path.join(config.printer.spoolDir, `${keyFileName(idempotencyKey)}.pdf`))
    expect(await fs.readdir(config.printer.spoolDir)).toEqual([path.basename(first.labelRef)])
    const pdf = await fs.readFile(first.labelRef)
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(barsAndSpaces(pdf)).toEqual(code128(call.trackingNumber))
    for (const word of ['SIMPOST', '1Z0123456789ABCDEF', 'Ada Lovelace', 'Order ORD-00000042']) expect(pdfText(pdf), word).toContain(word)
  })

  it('pipes the PDF to PRINT_COMMAND once per key, and retries a failing command', async () => {
    const config = await adaptersConfig()
    const printed = path.join(config.dataDir, 'printed by tee.bin')
    const command = splitCommand('PRINT_COMMAND', `tee -a "${printed}"`)
    expect(command).toEqual(['tee', '-a', printed])
    const printer = createCommandPrinter({ command, timeoutMs: 10_000, spoolDir: config.printer.spoolDir, now: () => new Date() }, log)
    const idempotencyKey = key('printLabel')
    expect(await printer.printLabel({ idempotencyKey, attempt: 1, ...call })).toEqual({ labelRef: `print:${idempotencyKey}` })
    const bytes = await fs.readFile(printed)
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    expect(barsAndSpaces(bytes)).toEqual(code128(call.trackingNumber))
    expect(await printer.printLabel({ idempotencyKey, attempt: 2, ...call })).toEqual({ labelRef: `print:${idempotencyKey}` })
    expect((await fs.readFile(printed)).length).toBe(bytes.length)
    expect(await fs.readdir(config.printer.spoolDir)).toEqual([`${keyFileName(idempotencyKey)}.printed`])

    const failing = createCommandPrinter({ command: ['sh', '-c', 'cat >/dev/null; echo out of paper >&2; exit 3'], timeoutMs: 10_000, spoolDir: config.printer.spoolDir, now: () => new Date() }, log)
    const failingKey = key('printLabel')
    const error = await rejection(failing.printLabel({ idempotencyKey: failingKey, attempt: 1, ...call }))
    expect(error).toBeInstanceOf(TransientOutsideError)
    expect((error as Error).message).toBe('printer: sh exited with 3: out of paper')
    const missing = createCommandPrinter({ command: ['/nonexistent/lp'], timeoutMs: 10_000, spoolDir: config.printer.spoolDir, now: () => new Date() }, log)
    expect(await rejection(missing.printLabel({ idempotencyKey: failingKey, attempt: 2, ...call }))).toBeInstanceOf(TransientOutsideError)
    expect(await fs.readdir(config.printer.spoolDir)).toHaveLength(1)
  })

  it('gives the command its dedupe key, and says when a label may be printed a second time (issue 13, item 7)', async () => {
    const config = await adaptersConfig()
    // The command notes the key and the repeat flag it was given, then takes the PDF.
    const jobs = path.join(config.dataDir, 'print jobs.txt')
    const command = ['sh', '-c', `echo "$PRINT_IDEMPOTENCY_KEY $PRINT_REPEAT" >> "${jobs}"; cat >/dev/null`]
    const printer = createCommandPrinter({ command, timeoutMs: 10_000, spoolDir: config.printer.spoolDir, now: () => new Date() }, log)
    const idempotencyKey = key('printLabel')
    await printer.printLabel({ idempotencyKey, attempt: 1, ...call })
    expect(await fs.readFile(jobs, 'utf8')).toBe(`${idempotencyKey} 0\n`)
    // A worker that died after the command and before its marker: the retry prints again, saying so.
    await fs.rm(path.join(config.printer.spoolDir, `${keyFileName(idempotencyKey)}.printed`))
    await fs.writeFile(path.join(config.printer.spoolDir, `${keyFileName(idempotencyKey)}.printing`), 'attempt 1\n')
    await printer.printLabel({ idempotencyKey, attempt: 2, ...call })
    expect(await fs.readFile(jobs, 'utf8')).toBe(`${idempotencyKey} 0\n${idempotencyKey} 1\n`)
    expect(await fs.readdir(config.printer.spoolDir)).toEqual([`${keyFileName(idempotencyKey)}.printed`])

    // An attempt abandoned while the command runs kills it, fails saying so, and leaves the retry flagged.
    const hanging = createCommandPrinter({ command: ['sh', '-c', 'cat >/dev/null; sleep 30'], timeoutMs: 60_000, spoolDir: config.printer.spoolDir, now: () => new Date() }, log)
    const hangingKey = key('printLabel')
    const error = await rejection(hanging.printLabel({ idempotencyKey: hangingKey, attempt: 1, ...call, signal: AbortSignal.timeout(500) }))
    expect((error as Error).message).toBe('printer: the attempt was abandoned (it outlived its expiry, or the worker is stopping)')
    expect((await fs.readdir(config.printer.spoolDir)).sort()).toEqual([`${keyFileName(idempotencyKey)}.printed`, `${keyFileName(hangingKey)}.printing`].sort())
  })
})

describe('carrier simulator', () => {
  it('answers the same shipment for the same key, and tracks it along', async () => {
    let now = new Date('2026-01-15T10:00:00Z')
    const carrier = createCarrierSimulator({ latencyMs: 0 }, { log, now: () => now })
    const idempotencyKey = key('createShipment')
    const shipment = await carrier.createShipment({ idempotencyKey, attempt: 1, orderNumber: 'ORD-00000042', address })
    expect(shipment).toEqual({ shipmentId: expect.stringMatching(/^shp_[0-9a-f]{24}$/), carrier: 'SIMPOST', trackingNumber: expect.stringMatching(/^1Z[0-9A-F]{16}$/) })
    // Another process (a fresh simulator) answers the same.
    expect(await createCarrierSimulator({ latencyMs: 0 }, { log, now: () => now }).createShipment({ idempotencyKey, attempt: 2, orderNumber: 'ORD-00000042', address })).toEqual(shipment)
    expect((await carrier.createShipment({ idempotencyKey: key('createShipment'), attempt: 1, orderNumber: 'ORD-00000043', address })).trackingNumber).not.toBe(shipment.trackingNumber)

    const track = async (): Promise<string> => (await carrier.trackingStatus({ idempotencyKey: key('track'), attempt: 1, trackingNumber: shipment.trackingNumber })).status
    expect(await track()).toBe(TRACKING_STATUS.LABEL_CREATED)
    now = new Date(now.getTime() + SIMULATED_LEG_MS)
    expect(await track()).toBe(TRACKING_STATUS.IN_TRANSIT)
    now = new Date(now.getTime() + SIMULATED_LEG_MS)
    expect(await track()).toBe(TRACKING_STATUS.DELIVERED)
  })
})

describe('fault injection', () => {
  it('fails half before and half after the effect, and idempotency keys keep the effect exactly once', async () => {
    const config = await adaptersConfig({ FAULT_RATES: 'payment=0.5, email=0.5,printer=1' })
    // Draws: below 0.25 fails before, below 0.5 after, above no fault.
    const systems: OutsideSystems = createOutsideSystems(config, { pool, log, random: scripted(0.1, 0.4, 0.9, 0.3, 0.7, 0.2) })
    const idempotencyKey = key('capturePayment')
    const capture = async (attempt: number): Promise<unknown> => await systems.payment.capture({ idempotencyKey, attempt, token: 'tok_visa', ...charge })

    const before = await rejection(capture(1))
    expect(before).toBeInstanceOf(TransientOutsideError)
    expect((before as Error).message).toBe('payment: injected fault before capture (FAULT_RATES)')
    expect(await chargeFor(pool, idempotencyKey)).toBeUndefined()

    const after = await rejection(capture(2))
    expect((after as Error).message).toBe('payment: injected fault after capture (FAULT_RATES)')
    const stored = await chargeFor(pool, idempotencyKey)
    expect(stored).toMatchObject({ outcome: 'CAPTURED', attempts: 1 })

    expect(await capture(3)).toEqual({ outcome: 'captured', paymentId: stored!.payment_id })
    expect(await chargeFor(pool, idempotencyKey)).toMatchObject({ outcome: 'CAPTURED', attempts: 2, payment_id: stored!.payment_id })

    // The email's answer lost after it was written: the retry finds it written.
    const mailKey = key('sendInvoice')
    const mail = { idempotencyKey: mailKey, to: 'ada@example.com', subject: 'Invoice', text: 'Hello' }
    expect(await rejection(systems.mailer.send({ ...mail, attempt: 1 }))).toBeInstanceOf(TransientOutsideError)
    expect(await fs.readdir(config.mail.outboxDir)).toHaveLength(1)
    expect((await systems.mailer.send({ ...mail, attempt: 2 })).messageId).toMatch(/@order-ops-gateway>$/)
    expect(await fs.readdir(config.mail.outboxDir)).toHaveLength(1)

    // printer=1: every call fails, before or after; systems without a rate are never touched.
    expect(await rejection(systems.printer.printLabel({ idempotencyKey: key('printLabel'), attempt: 1, orderNumber: 'ORD-1', trackingNumber: '1Z0000000000000000', carrier: 'SIMPOST', address }))).toBeInstanceOf(TransientOutsideError)
    expect((await systems.carrier.createShipment({ idempotencyKey: key('createShipment'), attempt: 1, orderNumber: 'ORD-1', address })).carrier).toBe('SIMPOST')
    await systems.close()
  })
})

describe('adapters configuration', () => {
  it('defaults to local stand-ins under DATA_DIR', () => {
    const config = loadConfig({ DATA_DIR: '/srv/ops' }).adapters
    expect(config).toMatchObject({
      dataDir: '/srv/ops',
      payment: { latencyMs: 0, declineRate: 0, failureRate: 0 },
      mail: { outboxDir: '/srv/ops/outbox', smtpUrl: undefined, from: '"Order Ops Gateway" <orders@localhost>' },
      printer: { spoolDir: '/srv/ops/labels', command: undefined, timeoutMs: 30_000 },
      erp: { webhookUrl: undefined, webhookSecret: undefined, timeoutMs: 10_000, exportFile: '/srv/ops/erp-export.jsonl' },
      carrier: { latencyMs: 0 },
      faultRates: { payment: 0, email: 0, erp: 0, carrier: 0, printer: 0 }
    })
    expect(loadConfig({ DATA_DIR: '/srv/ops', OUTBOX_DIR: 'mail/out', PRINT_COMMAND: 'lp -d \'label printer\'' }).adapters).toMatchObject({
      mail: { outboxDir: path.resolve('mail/out') },
      printer: { command: ['lp', '-d', 'label printer'] }
    })
  })

  it('explains bad values', () => {
    const fails = (env: Record<string, string>): string => {
      try {
        loadConfig(env)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
      throw new Error('expected a ConfigError')
    }
    expect(fails({ FAULT_RATES: 'payment:0.3' })).toMatch(/^FAULT_RATES must be comma-separated system=rate pairs such as payment=0\.3,email=0\.5 .* got "payment:0\.3"/)
    expect(fails({ FAULT_RATES: 'payment=0.3,fax=0.1' })).toMatch(/at "fax=0\.1"/)
    expect(fails({ FAULT_RATES: 'email=1.5' })).toMatch(/^FAULT_RATES must be/)
    expect(fails({ PAYMENT_DECLINE_RATE: '30%' })).toBe('PAYMENT_DECLINE_RATE must be a number from 0 to 1, got "30%"')
    expect(fails({ ERP_WEBHOOK_URL: 'https://erp.example.com/orders' })).toMatch(/^ERP_WEBHOOK_SECRET must be set with ERP_WEBHOOK_URL/)
    expect(fails({ ERP_WEBHOOK_URL: 'ftp://erp' })).toMatch(/^ERP_WEBHOOK_URL must be an http\(s\) URL/)
    expect(fails({ SMTP_URL: 'mail.example.com' })).toMatch(/^SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/)
    expect(fails({ PRINT_COMMAND: 'lp -d "labels' })).toMatch(/^PRINT_COMMAND has an unterminated " quote/)
  })
})
