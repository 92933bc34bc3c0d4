import path from 'node:path'

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
   * `JOB_RETRY_LIMIT`, `JOB_RETRY_DELAY_SECONDS`, `JOB_EXPIRE_SECONDS`: override every topic's retry
   * limit, first retry delay and attempt time limit (src/jobs/topology.ts has the defaults).
   */
  readonly jobPolicy: JobPolicyOverrides
  /** `PGBOSS_MONITOR_INTERVAL_SECONDS`, default 30: how often pg-boss looks for expired jobs (a dead worker's). */
  readonly bossMonitorIntervalSeconds: number
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
  /** `WEBHOOK_TIMEOUT_MS`, default 10000: how long one webhook attempt may take. */
  readonly webhookTimeoutMs: number
  /** `WEBHOOK_RETRY_LIMIT` and `WEBHOOK_RETRY_DELAY_SECONDS`: override the webhook topic's retries (src/jobs/topology.ts). */
  readonly webhookRetryLimit: number | undefined
  readonly webhookRetryDelaySeconds: number | undefined
  /** `RETENTION_DAYS`, default 60 (Magento's): finished bulks older than this are deleted with their operations. */
  readonly retentionDays: number
  /** `IDEMPOTENCY_TTL_HOURS`, default 24 (the least the contract promises): idempotency keys older than this are deleted. */
  readonly idempotencyTtlHours: number
  /** `RETENTION_CRON`, default `23 * * * *` (hourly, UTC): when pg-boss runs the retention job. */
  readonly retentionCron: string
}

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

function secret (env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 16) throw new ConfigError(`${name} must be at least 16 characters (use a random value, e.g. openssl rand -hex 32)`)
  return raw
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
  return Object.freeze({
    roles: Object.freeze([...roles]),
    databaseUrl: databaseUrl(env),
    dataDir: path.resolve(env.DATA_DIR?.trim() || '.data'),
    embeddedPgPort: integer(env, 'EMBEDDED_PG_PORT', 0, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    port: integer(env, 'PORT', 4000, 0, 65535),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    bossSchema,
    bossPoolSize: integer(env, 'PGBOSS_POOL_SIZE', 10, 1, 1000),
    maxBulkSize: integer(env, 'MAX_BULK_SIZE', 100_000, 1, 10_000_000),
    workerConcurrency: optionalInteger(env, 'WORKER_CONCURRENCY', 1, 1000),
    workerBatchSize: optionalInteger(env, 'WORKER_BATCH_SIZE', 1, 10_000),
    jobPolicy: Object.freeze({
      retryLimit: optionalInteger(env, 'JOB_RETRY_LIMIT', 0, 100),
      retryDelaySeconds: optionalInteger(env, 'JOB_RETRY_DELAY_SECONDS', 0, 86_400),
      expireInSeconds: optionalInteger(env, 'JOB_EXPIRE_SECONDS', 1, 86_400)
    }),
    bossMonitorIntervalSeconds: integer(env, 'PGBOSS_MONITOR_INTERVAL_SECONDS', 30, 1, 3600),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, 0, 3_600_000),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    publicUrl: publicUrl(env),
    webhookSecret: secret(env, 'WEBHOOK_SECRET'),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
    webhookRetryLimit: optionalInteger(env, 'WEBHOOK_RETRY_LIMIT', 0, 100),
    webhookRetryDelaySeconds: optionalInteger(env, 'WEBHOOK_RETRY_DELAY_SECONDS', 0, 86_400),
    retentionDays: integer(env, 'RETENTION_DAYS', 60, 1, 36_500),
    // Keys are kept at least 24 h: the contract of idempotencyKey (issue 3).
    idempotencyTtlHours: integer(env, 'IDEMPOTENCY_TTL_HOURS', 24, 24, 876_000),
    retentionCron: env.RETENTION_CRON?.trim() || '23 * * * *'
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
