import path from 'node:path'
import { OUTSIDE_SYSTEMS, type OutsideSystem } from '../adapters/ports.ts'

/** The roles one process can play; `npm start` plays both. */
export const ROLES = ['gateway', 'worker'] as const
export type Role = (typeof ROLES)[number]

export interface Config {
  /** Roles this process runs. */
  readonly roles: readonly Role[]
  /** `DATABASE_URL`: an existing PostgreSQL (13+). Unset: an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined
  /** `DATA_DIR`, default `./.data`: the embedded database and other local state. */
  readonly dataDir: string
  /** `EMBEDDED_PG_PORT`, default 0 (a free port): where the embedded PostgreSQL listens. */
  readonly embeddedPgPort: number
  /** `HOST`, default `0.0.0.0`, and `PORT`, default 4000: where GraphQL (HTTP and WebSocket) listens. */
  readonly host: string
  readonly port: number
  /** `DB_POOL_SIZE`, default 10: connections of the gateway's own pool. */
  readonly dbPoolSize: number
  /** `PGBOSS_SCHEMA`, default `pgboss`: the schema pg-boss keeps its tables in. */
  readonly bossSchema: string
  /** `PGBOSS_POOL_SIZE`, default 10: connections of pg-boss's pool. */
  readonly bossPoolSize: number
  /** `MAX_BULK_SIZE`, default 100000: most orders one `placeOrders` may carry. */
  readonly maxBulkSize: number
  /** `WORKER_CONCURRENCY`: overrides each topic's local concurrency (workers per queue in this process). */
  readonly workerConcurrency: number | undefined
  /** `WORKER_BATCH_SIZE`: overrides each topic's batch size. */
  readonly workerBatchSize: number | undefined
  /**
   * `WORKER_TOPICS`, default every topic: the topics this process's workers consume, comma-separated,
   * each a queue name (`order.place`) or a prefix ending in `*` (`order.step.*`), so that placements
   * and the chain's steps can run on workers of their own. Webhooks and retention run on every worker.
   */
  readonly workerTopics: readonly string[] | undefined
  /**
   * `JOB_RETRY_LIMIT`, `JOB_RETRY_DELAY_SECONDS`, `JOB_EXPIRE_SECONDS`: override every topic's retry
   * limit, first retry delay and attempt time limit (src/operations/topics.ts has the defaults).
   */
  readonly jobPolicy: JobPolicyOverrides
  /** `PGBOSS_MONITOR_INTERVAL_SECONDS`, default 30: how often pg-boss looks for expired jobs (a dead worker's). */
  readonly bossMonitorIntervalSeconds: number
  /**
   * `ADMIN_TOKEN` (at least 32 characters): ensured as an admin API token at start, for deployments
   * and scripts. Unset: on the embedded database, the first start creates one and prints it once.
   */
  readonly adminToken: string | undefined
  /** `SHUTDOWN_TIMEOUT_MS`, default 15000: how long in-flight jobs may take to finish on SIGINT/SIGTERM. */
  readonly shutdownTimeoutMs: number
  /** `LOG_LEVEL`: `debug`, `info` (default), `warn`, `error` or `silent`. */
  readonly logLevel: LogLevel
  /**
   * `PUBLIC_URL`: the gateway's address as clients reach it (behind a proxy: its https URL), from
   * which absolute links such as `Bulk.resultsUrl` are made. Unset: `http://localhost:PORT`, with the
   * port actually bound (see `publicBaseUrl`).
   */
  readonly publicUrl: string | undefined
  /** `WEBHOOK_SECRET`: the HMAC-SHA256 key webhooks are signed with. Unset: no webhook is sent (each attempt fails, saying so). */
  readonly webhookSecret: string | undefined
  /** `WEBHOOK_ALLOW_PRIVATE`, default false: let webhooks go to private, loopback and link-local addresses. */
  readonly webhookAllowPrivate: boolean
  /** `WEBHOOK_TIMEOUT_MS`, default 10000: how long one webhook attempt may take. */
  readonly webhookTimeoutMs: number
  /** `WEBHOOK_RETRY_LIMIT` and `WEBHOOK_RETRY_DELAY_SECONDS`: override the webhook topic's retries (src/operations/topics.ts). */
  readonly webhookRetryLimit: number | undefined
  readonly webhookRetryDelaySeconds: number | undefined
  /** `RETENTION_DAYS`, default 60 (Magento's): finished bulks older than this are deleted with their operations. */
  readonly retentionDays: number
  /** `IDEMPOTENCY_TTL_HOURS`, default 24 (the least the contract promises): idempotency keys older than this are deleted. */
  readonly idempotencyTtlHours: number
  /** `RETENTION_CRON`, default `23 * * * *` (hourly, UTC): when pg-boss runs the retention job. */
  readonly retentionCron: string
  /** Limits against hostile or broken clients (src/api/security/, docs/security.md). */
  readonly limits: LimitsConfig
  /**
   * JWTs for user-facing clients (README "Security: JWT"): `JWT_ISSUER`, `JWT_AUDIENCE` and one of
   * `JWT_SECRET` or `JWT_JWKS_URL`. Unset (no `JWT_ISSUER`): JWTs are not accepted at all.
   */
  readonly jwt: JwtConfig | undefined
  /** The outside systems of the post-order chain and their local stand-ins (src/adapters/). */
  readonly adapters: AdaptersConfig
}

/** How the chain reaches outside systems (src/adapters/); each read from the variable named in its line. */
export interface AdaptersConfig {
  /** `DATA_DIR`, as above: the default home of the outbox, the label spool and the ERP export file. */
  readonly dataDir: string
  readonly payment: PaymentSimulatorConfig
  readonly mail: MailConfig
  readonly printer: PrinterConfig
  readonly erp: ErpConfig
  readonly carrier: CarrierSimulatorConfig
  /**
   * `FAULT_RATES`, e.g. `payment=0.3,email=0.5`, default none: the probability (0 to 1) that a call
   * to that system fails transiently, half the time before its effect and half after it (a lost
   * answer), to prove that retries rely on idempotency keys (src/adapters/faults.ts).
   */
  readonly faultRates: Readonly<Record<OutsideSystem, number>>
}

/** The payment simulator (src/adapters/payment/simulator.ts). */
export interface PaymentSimulatorConfig {
  /** `PAYMENT_LATENCY_MS`, default 0: how long each call to the provider takes. */
  readonly latencyMs: number
  /** `PAYMENT_DECLINE_RATE`, default 0: the share of captures with a token other than the test tokens that are declined. */
  readonly declineRate: number
  /** `PAYMENT_FAILURE_RATE`, default 0: the share of such captures that fail transiently (the provider unavailable). */
  readonly failureRate: number
}

/** Email (src/adapters/email/). */
export interface MailConfig {
  /** `OUTBOX_DIR`, default `<DATA_DIR>/outbox`: where messages are written as `.eml` files when SMTP_URL is unset. */
  readonly outboxDir: string
  /** `SMTP_URL`, e.g. `smtp://user:pass@mail.example.com:587`: send through this server instead of the outbox. */
  readonly smtpUrl: string | undefined
  /** `MAIL_FROM`, default `"Order Ops Gateway" <orders@localhost>`: the sender of every message. */
  readonly from: string
}

/** The label printer (src/adapters/printer/). */
export interface PrinterConfig {
  /** `LABEL_SPOOL_DIR`, default `<DATA_DIR>/labels`: where labels are written (and print markers kept). */
  readonly spoolDir: string
  /**
   * `PRINT_COMMAND`, e.g. `lp -d labels`: a command that prints the PDF it reads on stdin, run without
   * a shell (split on spaces; quotes group words). Unset: labels stay in the spool folder.
   */
  readonly command: readonly string[] | undefined
  /** `PRINT_TIMEOUT_MS`, default 30000: how long the print command may take before it is killed. */
  readonly timeoutMs: number
}

/** The ERP export (src/adapters/erp/). */
export interface ErpConfig {
  /** `ERP_WEBHOOK_URL`: POST each order document there (http or https). Unset: append it to `exportFile`. */
  readonly webhookUrl: string | undefined
  /** `ERP_WEBHOOK_SECRET` (16 characters or more, required with ERP_WEBHOOK_URL): the HMAC-SHA256 key the POSTs are signed with. */
  readonly webhookSecret: string | undefined
  /** `ERP_TIMEOUT_MS`, default 10000: how long one POST may take, answer included. */
  readonly timeoutMs: number
  /** `ERP_EXPORT_FILE`, default `<DATA_DIR>/erp-export.jsonl`: one JSON line per exported order. */
  readonly exportFile: string
}

/** The carrier simulator (src/adapters/carrier/simulator.ts). */
export interface CarrierSimulatorConfig {
  /** `CARRIER_LATENCY_MS`, default 0: how long each call to the carrier takes. */
  readonly latencyMs: number
}

/** Limits on what one client may send; each read from the variable named in its line. */
export interface LimitsConfig {
  /**
   * Limits on one GraphQL document (GraphQL Armor), counted on the query text alone, never on
   * variables: `GRAPHQL_MAX_DEPTH` (default 10), `GRAPHQL_MAX_ALIASES` (15), `GRAPHQL_MAX_DIRECTIVES`
   * (20), `GRAPHQL_MAX_TOKENS` (2000), `GRAPHQL_MAX_COST` (100000; a list field asked with a literal
   * `first`/`last` costs that many times its selection).
   */
  readonly maxDepth: number
  readonly maxAliases: number
  readonly maxDirectives: number
  readonly maxTokens: number
  readonly maxCost: number
  /** `MAX_BODY_BYTES`, default 64 MiB: the largest HTTP request body other than a multipart upload (413 beyond). */
  readonly maxBodyBytes: number
  /** `MAX_UPLOAD_BYTES`, default 256 MiB: the largest multipart request (a JSONL upload; 413 beyond). */
  readonly maxUploadBytes: number
  /** `GRAPHQL_BATCHING`, default 0 (off): the most operations one HTTP request may carry as a JSON array. */
  readonly batching: number
  /** `GRAPHQL_INTROSPECTION`, `true` or `false`: default false when `NODE_ENV=production`, true otherwise. */
  readonly introspection: boolean
  /** `GRAPHIQL`, `true` or `false`: GraphiQL on GET /graphql; default false when `NODE_ENV=production`, true otherwise. */
  readonly graphiql: boolean
  /** `WS_MAX_MESSAGE_BYTES`, default 1 MiB: a larger WebSocket message closes the socket (1009). */
  readonly wsMaxMessageBytes: number
  /** `WS_MAX_SUBSCRIPTIONS`, default 100: operations one WebSocket may have running; more are refused. */
  readonly wsMaxSubscriptions: number
  /** `WS_IDLE_TIMEOUT_SECONDS`, default 60, 0 off: a WebSocket without any operation for this long is closed (4410). */
  readonly wsIdleTimeoutSeconds: number
  /** `WS_KEEPALIVE_SECONDS`, default 12 (graphql-ws's), 0 off: how often each WebSocket is pinged; one that does not answer within as long again is dropped. */
  readonly wsKeepAliveSeconds: number
  /** `RATE_LIMIT_PER_MINUTE`, default 600, 0 off: operations one caller (token, else IP address) may run per rate-limit window. */
  readonly rateLimitPerWindow: number
  /** `RATE_LIMIT_WINDOW_SECONDS`, default 60: the length of that window (fixed windows, shared by every gateway through PostgreSQL). */
  readonly rateLimitWindowSeconds: number
}

/** How JWTs are verified (src/api/auth/jwt.ts); each read from the variable named in its line. */
export interface JwtConfig {
  /** `JWT_ISSUER`: the `iss` every accepted token carries, exactly. */
  readonly issuer: string
  /** `JWT_AUDIENCE`: the `aud` every accepted token carries (alone or in its list). */
  readonly audience: string
  /**
   * The keys: `JWT_SECRET`, an HMAC key shared with the issuer (32 characters or more), or
   * `JWT_JWKS_URL`, the issuer's public keys (https, or http on a loopback address only).
   */
  readonly key: { readonly kind: 'secret', readonly secret: string } | { readonly kind: 'jwks', readonly url: string }
  /** `JWT_ALGORITHMS`, comma-separated: default `HS256` with a secret, `RS256` with a JWKS; never `none`. */
  readonly algorithms: readonly JwtAlgorithm[]
  /** `JWT_ROLE_CLAIM`, default `role`: the claim naming the role, `customer`, `integration` or `admin` (missing or other: customer). */
  readonly roleClaim: string
}

/**
 * The algorithms each kind of key may verify: a secret only HMAC ones, a JWKS only public-key ones,
 * so that a token signed with a public key used as an HMAC secret never passes (algorithm confusion).
 */
export const JWT_ALGORITHMS = Object.freeze({
  secret: ['HS256', 'HS384', 'HS512'],
  jwks: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']
} as const)
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[keyof typeof JWT_ALGORITHMS][number]

export interface JobPolicyOverrides {
  readonly retryLimit?: number | undefined
  readonly retryDelaySeconds?: number | undefined
  readonly expireInSeconds?: number | undefined
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A configuration problem, worded for the person starting the process. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Readonly<Record<string, string | undefined>>

function integer (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

const TOPIC_PATTERN = /^(\*|[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+)*(\.\*)?)$/

function topicPatterns (env: Env): readonly string[] | undefined {
  const raw = env.WORKER_TOPICS?.trim()
  if (!raw) return undefined
  const patterns = raw.split(',').map(pattern => pattern.trim())
  const bad = patterns.find(pattern => !TOPIC_PATTERN.test(pattern))
  if (bad !== undefined) {
    throw new ConfigError(`WORKER_TOPICS must be comma-separated topic names or prefixes ending in * (such as order.place,order.step.*), got "${bad}"`)
  }
  return Object.freeze(patterns)
}

function optionalInteger (env: Env, name: string, min: number, max: number): number | undefined {
  return env[name] === undefined || env[name]?.trim() === '' ? undefined : integer(env, name, 0, min, max)
}

function oneOf<T extends string> (env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

function databaseUrl (env: Env): string | undefined {
  const raw = env.DATABASE_URL?.trim()
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('DATABASE_URL must be a URL such as postgres://user:password@host:5432/database')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`)
  }
  return raw
}

function publicUrl (env: Env): string | undefined {
  const raw = env.PUBLIC_URL?.trim()
  if (!raw) return undefined
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL without query, such as https://ops.example.com, got "${raw}"`)
  }
  return url.toString().replace(/\/+$/, '')
}

function adminToken (env: Env): string | undefined {
  const raw = env.ADMIN_TOKEN
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 32 || raw.length > 200 || /\s/.test(raw)) {
    throw new ConfigError('ADMIN_TOKEN must be 32 to 200 characters without spaces (use a random value, e.g. openssl rand -hex 32)')
  }
  return raw
}

function flag (env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(`${name} must be true or false, got "${env[name] ?? ''}"`)
}

const MIB = 1024 * 1024

function limits (env: Env): LimitsConfig {
  // Secure by default in production: no schema tour for strangers (issue 5).
  const development = env.NODE_ENV?.trim() !== 'production'
  return Object.freeze({
    maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 1000),
    maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 10_000),
    maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 20, 0, 10_000),
    maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 2000, 10, 1_000_000),
    maxCost: integer(env, 'GRAPHQL_MAX_COST', 100_000, 1, 1_000_000_000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 64 * MIB, 1024, 4096 * MIB),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 256 * MIB, 1024, 4096 * MIB),
    batching: integer(env, 'GRAPHQL_BATCHING', 0, 0, 1000),
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', development),
    graphiql: flag(env, 'GRAPHIQL', development),
    wsMaxMessageBytes: integer(env, 'WS_MAX_MESSAGE_BYTES', MIB, 1024, 1024 * MIB),
    wsMaxSubscriptions: integer(env, 'WS_MAX_SUBSCRIPTIONS', 100, 1, 100_000),
    wsIdleTimeoutSeconds: integer(env, 'WS_IDLE_TIMEOUT_SECONDS', 60, 0, 86_400),
    wsKeepAliveSeconds: integer(env, 'WS_KEEPALIVE_SECONDS', 12, 0, 86_400),
    rateLimitPerWindow: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 100_000_000),
    rateLimitWindowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400)
  })
}

function secret (env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 16) throw new ConfigError(`${name} must be at least 16 characters (use a random value, e.g. openssl rand -hex 32)`)
  return raw
}

/** JWT settings are all or nothing: a half-configured set stops the process instead of refusing every JWT quietly. */
function jwt (env: Env): JwtConfig | undefined {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined
  const issuer = value('JWT_ISSUER')
  if (issuer === undefined) {
    const set = ['JWT_AUDIENCE', 'JWT_SECRET', 'JWT_JWKS_URL', 'JWT_ALGORITHMS', 'JWT_ROLE_CLAIM'].filter(name => value(name) !== undefined)
    if (set.length > 0) throw new ConfigError(`${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but JWT_ISSUER is not: set JWT_ISSUER (the iss of the tokens to accept) or unset ${set.length > 1 ? 'them' : 'it'}`)
    return undefined
  }
  const audience = value('JWT_AUDIENCE')
  if (audience === undefined) throw new ConfigError('JWT_AUDIENCE must be set with JWT_ISSUER: the aud the tokens to accept are issued for')
  // The secret is used as given, spaces and all: trimming it would make it another key.
  const secret = env.JWT_SECRET === '' ? undefined : env.JWT_SECRET
  const jwksUrl = value('JWT_JWKS_URL')
  if ((secret === undefined) === (jwksUrl === undefined)) {
    throw new ConfigError(`set exactly one of JWT_SECRET (an HMAC key shared with the issuer) and JWT_JWKS_URL (the issuer's public keys) with JWT_ISSUER, got ${secret === undefined ? 'neither' : 'both'}`)
  }
  let key: JwtConfig['key']
  if (secret !== undefined) {
    if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters (use a random value, e.g. openssl rand -hex 32)')
    key = { kind: 'secret', secret }
  } else {
    let url: URL | undefined
    try {
      url = new URL(jwksUrl!)
    } catch {}
    // Keys fetched over plain http could be swapped on the way, and with them every identity.
    const loopback = url !== undefined && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname)
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
      throw new ConfigError(`JWT_JWKS_URL must be an https URL such as https://issuer.example.com/.well-known/jwks.json (http only on a loopback address), got "${jwksUrl!}"`)
    }
    key = { kind: 'jwks', url: url.toString() }
  }
  const allowed: readonly JwtAlgorithm[] = JWT_ALGORITHMS[key.kind]
  const algorithms = (value('JWT_ALGORITHMS') ?? allowed[0]!).split(',').map(name => name.trim()).filter(name => name !== '')
  if (algorithms.length === 0) throw new ConfigError(`JWT_ALGORITHMS must name at least one of ${allowed.join(', ')}`)
  for (const name of algorithms) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new ConfigError(`JWT_ALGORITHMS with ${key.kind === 'secret' ? 'JWT_SECRET' : 'JWT_JWKS_URL'} must be among ${allowed.join(', ')}, got "${name}"${name.toLowerCase() === 'none' ? ' (unsigned tokens are never accepted)' : ''}`)
    }
  }
  return Object.freeze({
    issuer,
    audience,
    key: Object.freeze(key),
    algorithms: Object.freeze(algorithms as JwtAlgorithm[]),
    roleClaim: value('JWT_ROLE_CLAIM') ?? 'role'
  })
}

function rate (env: Env, name: string): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return 0
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}"`)
  return value
}

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

function httpUrl (env: Env, name: string, example: string): string | undefined {
  const raw = env[name]?.trim()
  if (!raw) return undefined
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(`${name} must be an http(s) URL such as ${example}, got "${raw}"`)
  return url.toString()
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

function adapters (env: Env, dataDir: string): AdaptersConfig {
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

/** The gateway's public address: PUBLIC_URL, else `http://localhost:<port>` with the port bound when known. */
export function publicBaseUrl (config: Config, boundPort?: number): string {
  return config.publicUrl ?? `http://localhost:${boundPort ?? config.port}`
}

/**
 * Reads the environment once and returns a frozen configuration.
 * Only entry points call this; everything else receives the result.
 */
export function loadConfig (env: Env = process.env, roles: readonly Role[] = ROLES): Config {
  const bossSchema = env.PGBOSS_SCHEMA?.trim() || 'pgboss'
  if (!/^[a-z_][a-z0-9_]{0,49}$/.test(bossSchema)) {
    throw new ConfigError(`PGBOSS_SCHEMA must be a lower-case SQL identifier (letters, digits, _), got "${bossSchema}"`)
  }
  const dataDir = path.resolve(env.DATA_DIR?.trim() || '.data')
  return Object.freeze({
    roles: Object.freeze([...roles]),
    databaseUrl: databaseUrl(env),
    dataDir,
    embeddedPgPort: integer(env, 'EMBEDDED_PG_PORT', 0, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    port: integer(env, 'PORT', 4000, 0, 65535),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    bossSchema,
    bossPoolSize: integer(env, 'PGBOSS_POOL_SIZE', 10, 1, 1000),
    maxBulkSize: integer(env, 'MAX_BULK_SIZE', 100_000, 1, 10_000_000),
    workerConcurrency: optionalInteger(env, 'WORKER_CONCURRENCY', 1, 1000),
    workerBatchSize: optionalInteger(env, 'WORKER_BATCH_SIZE', 1, 10_000),
    workerTopics: topicPatterns(env),
    jobPolicy: Object.freeze({
      retryLimit: optionalInteger(env, 'JOB_RETRY_LIMIT', 0, 100),
      retryDelaySeconds: optionalInteger(env, 'JOB_RETRY_DELAY_SECONDS', 0, 86_400),
      expireInSeconds: optionalInteger(env, 'JOB_EXPIRE_SECONDS', 1, 86_400)
    }),
    bossMonitorIntervalSeconds: integer(env, 'PGBOSS_MONITOR_INTERVAL_SECONDS', 30, 1, 3600),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, 0, 3_600_000),
    adminToken: adminToken(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    publicUrl: publicUrl(env),
    webhookSecret: secret(env, 'WEBHOOK_SECRET'),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
    webhookAllowPrivate: oneOf(env, 'WEBHOOK_ALLOW_PRIVATE', ['true', 'false'], 'false') === 'true',
    webhookRetryLimit: optionalInteger(env, 'WEBHOOK_RETRY_LIMIT', 0, 100),
    webhookRetryDelaySeconds: optionalInteger(env, 'WEBHOOK_RETRY_DELAY_SECONDS', 0, 86_400),
    retentionDays: integer(env, 'RETENTION_DAYS', 60, 1, 36_500),
    // Keys are kept at least 24 h: the contract of idempotencyKey (issue 3).
    idempotencyTtlHours: integer(env, 'IDEMPOTENCY_TTL_HOURS', 24, 24, 876_000),
    retentionCron: env.RETENTION_CRON?.trim() || '23 * * * *',
    limits: limits(env),
    jwt: jwt(env),
    adapters: adapters(env, dataDir)
  })
}

/** Parses `--role gateway|worker|all` from the command line; the default runs both. */
export function parseRoles (argv: readonly string[]): readonly Role[] {
  const at = argv.indexOf('--role')
  if (at === -1) return ROLES
  const value = argv[at + 1]
  if (value === 'all') return ROLES
  if (value === 'gateway' || value === 'worker') return [value]
  throw new ConfigError(`--role must be gateway, worker or all, got "${value ?? ''}"`)
}
