import type pg from 'pg'
import type { AdaptersConfig } from './options.ts'
import type { Logger } from '../platform/log.ts'
import { createCarrierSimulator } from './carrier/simulator.ts'
import { createDocuments } from './documents/invoice.ts'
import { createOutboxMailer } from './email/outbox.ts'
import { createSmtpMailer } from './email/smtp.ts'
import { createErpFile } from './erp/file.ts'
import { createErpWebhook } from './erp/webhook.ts'
import { createFaultInjector, withFaults } from './faults.ts'
import { createPaymentSimulator } from './payment/simulator.ts'
import type { OutsideSystems } from './ports.ts'
import { createCommandPrinter } from './printer/command.ts'
import { createSpoolPrinter } from './printer/spool.ts'

export interface OutsideSystemsDeps {
  readonly pool: pg.Pool
  readonly log: Logger
  /** Numbers in [0, 1) for FAULT_RATES and the payment simulator's rates; default Math.random (tests script it). */
  readonly random?: () => number
  /** The clock; default the system's. */
  readonly now?: () => Date
}

/**
 * The outside systems as configured (AdaptersConfig): local stand-ins unless SMTP_URL,
 * ERP_WEBHOOK_URL or PRINT_COMMAND name real ones, all behind FAULT_RATES' fault injection.
 */
export function createOutsideSystems (config: AdaptersConfig, deps: OutsideSystemsDeps): OutsideSystems {
  const random = deps.random ?? Math.random
  const now = deps.now ?? (() => new Date())
  const log = deps.log
  const smtp = config.mail.smtpUrl !== undefined ? createSmtpMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, timeoutMs: config.mail.timeoutMs }, { db: deps.pool, log: log.child({ system: 'email' }) }) : undefined
  const printerCommand = config.printer.command
  const effects = withFaults(createFaultInjector(config.faultRates, random, log.child({ component: 'faults' })), {
    payment: createPaymentSimulator(config.payment, { pool: deps.pool, log, random }),
    mailer: smtp ?? createOutboxMailer({ outboxDir: config.mail.outboxDir, from: config.mail.from }, log.child({ system: 'email' })),
    erp: config.erp.webhookUrl !== undefined
      ? createErpWebhook({ url: config.erp.webhookUrl, secret: config.erp.webhookSecret!, timeoutMs: config.erp.timeoutMs, now }, log.child({ system: 'erp' }))
      : createErpFile({ exportFile: config.erp.exportFile, now }, log.child({ system: 'erp' })),
    carrier: createCarrierSimulator(config.carrier, { log, now }),
    printer: printerCommand !== undefined
      ? createCommandPrinter({ command: printerCommand, timeoutMs: config.printer.timeoutMs, spoolDir: config.printer.spoolDir, now }, log.child({ system: 'printer' }))
      : createSpoolPrinter({ spoolDir: config.printer.spoolDir, now }, log.child({ system: 'printer' }))
  })
  return {
    ...effects,
    documents: createDocuments(),
    async close () {
      smtp?.close()
    }
  }
}

export * from './ports.ts'
