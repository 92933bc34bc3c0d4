import path from 'node:path'
import type { AdaptersConfig } from '../adapters/options.ts'
import { OUTSIDE_SYSTEMS, type OutsideSystem } from '../adapters/ports.ts'
import { ConfigError } from '../platform/configError.ts'
import { httpUrl, integer, rate, secret, type Env } from './env.ts'

const FAULT_RATES_FORMAT = 'comma-separated system=rate pairs such as payment=0.3,email=0.5 (systems: ' + OUTSIDE_SYSTEMS.join(', ') + '; rates from 0 to 1)'

function faultRates (env: Env): Readonly<Record<OutsideSystem, number>> {
  const rates = Object.fromEntries(OUTSIDE_SYSTEMS.map(system => [system, 0])) as Record<OutsideSystem, number>
  const raw = env.FAULT_RATES?.trim()
  if (!raw) return Object.freeze(rates)
  for (const pair of raw.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*([0-9.]+)\s*$/.exec(pair)
    const system = match?.[1] as OutsideSystem | undefined
    const value = Number(match?.[2])
    if (!match || !(OUTSIDE_SYSTEMS as readonly string[]).includes(system!) || !Number.isFinite(value) || value > 1) {
      throw new ConfigError(`FAULT_RATES must be ${FAULT_RATES_FORMAT}, got "${raw}" (at "${pair.trim()}")`)
    }
    rates[system!] = value
  }
  return Object.freeze(rates)
}

function smtpUrl (env: Env): string | undefined {
  const raw = env.SMTP_URL?.trim()
  if (!raw) return undefined
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {}
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')) {
    throw new ConfigError('SMTP_URL must be an smtp:// or smtps:// URL such as smtp://user:password@mail.example.com:587')
  }
  return raw
}

/**
 * Splits a command line into its words the way a shell would for plain words and quotes, and no
 * further: no variables, globs, pipes or redirections, as the command is run without a shell.
 */
export function splitCommand (name: string, raw: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (const char of raw) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined
      else word += char
    } else if (char === '"' || char === "'") {
      quote = char
      word ??= ''
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else {
      word = (word ?? '') + char
    }
  }
  if (quote !== undefined) throw new ConfigError(`${name} has an unterminated ${quote} quote: "${raw}"`)
  if (word !== undefined) words.push(word)
  return words
}

export function adapters (env: Env, dataDir: string): AdaptersConfig {
  const dir = (name: string, fallback: string): string => path.resolve(env[name]?.trim() || path.join(dataDir, fallback))
  const erpWebhookUrl = httpUrl(env, 'ERP_WEBHOOK_URL', 'https://erp.example.com/orders')
  const erpWebhookSecret = secret(env, 'ERP_WEBHOOK_SECRET')
  if (erpWebhookUrl !== undefined && erpWebhookSecret === undefined) {
    throw new ConfigError('ERP_WEBHOOK_SECRET must be set with ERP_WEBHOOK_URL: the key the ERP checks each POST\'s signature with (e.g. openssl rand -hex 32)')
  }
  const printCommand = env.PRINT_COMMAND?.trim() ? splitCommand('PRINT_COMMAND', env.PRINT_COMMAND) : undefined
  return Object.freeze({
    dataDir,
    payment: Object.freeze({
      latencyMs: integer(env, 'PAYMENT_LATENCY_MS', 0, 0, 600_000),
      declineRate: rate(env, 'PAYMENT_DECLINE_RATE'),
      failureRate: rate(env, 'PAYMENT_FAILURE_RATE')
    }),
    mail: Object.freeze({
      outboxDir: dir('OUTBOX_DIR', 'outbox'),
      smtpUrl: smtpUrl(env),
      timeoutMs: integer(env, 'SMTP_TIMEOUT_MS', 30_000, 1000, 600_000),
      from: env.MAIL_FROM?.trim() || '"Order Ops Gateway" <orders@localhost>'
    }),
    printer: Object.freeze({
      spoolDir: dir('LABEL_SPOOL_DIR', 'labels'),
      command: printCommand && printCommand.length > 0 ? Object.freeze(printCommand) : undefined,
      timeoutMs: integer(env, 'PRINT_TIMEOUT_MS', 30_000, 100, 3_600_000)
    }),
    erp: Object.freeze({
      webhookUrl: erpWebhookUrl,
      webhookSecret: erpWebhookSecret,
      timeoutMs: integer(env, 'ERP_TIMEOUT_MS', 10_000, 100, 600_000),
      exportFile: dir('ERP_EXPORT_FILE', 'erp-export.jsonl')
    }),
    carrier: Object.freeze({
      latencyMs: integer(env, 'CARRIER_LATENCY_MS', 0, 0, 600_000)
    }),
    faultRates: faultRates(env)
  })
}
