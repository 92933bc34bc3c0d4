import path from 'node:path'
import type { AdaptersConfig } from '../adapters/options.ts'
import type { AuthConfig } from '../api/auth/options.ts'
import type { JwtConfig } from '../api/auth/jwtOptions.ts'
import type { LimitsConfig } from '../api/security/options.ts'
import { ConfigError } from '../platform/configError.ts'
import type { PoolTimeouts } from '../platform/db/pool.ts'
import type { RetryOverrides } from '../platform/jobs/retryPolicy.ts'
import { LOG_LEVELS, type LogLevel } from '../platform/log.ts'
import { adapters } from './adapters.ts'
import { auth } from './auth.ts'
import { flag, httpUrl, integer, oneOf, optionalInteger, secret, type Env } from './env.ts'
import { DEFAULT_CHUNK_SIZE, DEFAULT_FAIRNESS, type FairnessOptions } from '../operations/fairness.ts'
import { jwt, limits } from './security.ts'
import { checkAttemptBudgets } from './timeouts.ts'

/**
 * The gateway's configuration, read from the environment once (loadConfig) by the entry points and
 * passed on. Each area's options are declared beside the code that uses them (src/adapters/options.ts,
 * src/api/security/options.ts, src/api/auth/jwtOptions.ts) and read by the file of this folder named
 * for that area; docs/configuration.md lists every variable.
 */

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
  /**
   * `EXPORT_DIR`, default `<DATA_DIR>/exports`: the files of export bulks (exportOrders,
   * exportInventory). Workers write them and gateways serve them: one folder they share.
   */
  readonly exportDir: string
  /** `EMBEDDED_PG_PORT`, default 0 (a free port): where the embedded PostgreSQL listens. */
  readonly embeddedPgPort: number
  /** `HOST`, default `0.0.0.0`, and `PORT`, default 4000: where GraphQL (HTTP and WebSocket) listens. */
  readonly host: string
  readonly port: number
  /**
   * `HEALTH_PORT`, default unset: a port where this process answers `GET /health` and `GET /ready`
   * (src/api/health.ts) besides PORT, for processes without the gateway role (`--role worker`), which
   * have no HTTP port otherwise. Gateways answer them on PORT in any case.
   */
  readonly healthPort: number | undefined
  /**
   * `METRICS_TOKEN` (at least 16 characters), default unset: GET /metrics (on PORT and HEALTH_PORT)
   * then requires `Authorization: Bearer <METRICS_TOKEN>`. Unset: /metrics answers only clients on
   * the loopback interface (127.0.0.1, ::1), so a scraper elsewhere needs the token.
   */
  readonly metricsToken: string | undefined
  /**
   * `SHARED_SUBSCRIPTIONS`, default true: subscribers of the same document, variables and caller
   * scope share one execution (src/api/graphql/sharedSubscriptions.ts); false: one execution each.
   */
  readonly sharedSubscriptions: boolean
  /** `DB_POOL_SIZE`, default 10: connections of the gateway's own pool. */
  readonly dbPoolSize: number
  /** `DB_ACQUIRE_TIMEOUT_MS`, `DB_STATEMENT_TIMEOUT_MS`, `DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`: that pool's bounds (src/platform/db/pool.ts). */
  readonly dbTimeouts: PoolTimeouts
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
   * `BULK_CHUNK_SIZE`, default 500: operations of a bulk one job carries (issue 17, item 1); at most
   * WORKER_BATCH_SIZE when that is set, so that a chunk is no larger than a batch.
   */
  readonly bulkChunkSize: number
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
  readonly jobPolicy: RetryOverrides
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
  /** `PGBOSS_DASHBOARD_URL`: where pg-boss's own dashboard runs; the gateway's dashboard links its queues page there. */
  readonly pgBossDashboardUrl: string | undefined
  /**
   * `WEBHOOK_SECRET`, deprecated, default unset: webhooks are signed with their owner's own secret
   * (rotateWebhookSecret); when this is set they also carry the older `X-Signature-256` made with it,
   * for receivers that still check that one.
   */
  readonly webhookSecret: string | undefined
  /** `WEBHOOK_ALLOW_PRIVATE`, default false: let webhooks go to private, loopback and link-local addresses. */
  readonly webhookAllowPrivate: boolean
  /** `WEBHOOK_TIMEOUT_MS`, default 10000: how long one webhook attempt may take. */
  readonly webhookTimeoutMs: number
  /** `WEBHOOK_RETRY_LIMIT` and `WEBHOOK_RETRY_DELAY_SECONDS`: override the webhook topic's retries (src/operations/topics.ts). */
  readonly webhookRetryLimit: number | undefined
  readonly webhookRetryDelaySeconds: number | undefined
  /**
   * `WEBHOOK_SWEEP_SECONDS`, default 300: how often each worker looks for finished bulks with a
   * notifyUrl and no webhook for their finish, besides its sweeps at start and after its LISTEN
   * connection came back (src/operations/webhooks/finishWatcher.ts).
   */
  readonly webhookSweepSeconds: number
  /** `RETENTION_DAYS`, default 60 (Magento's): finished bulks older than this are deleted with their operations. */
  readonly retentionDays: number
  /**
   * `FAILED_RETENTION_DAYS`, default 3 × RETENTION_DAYS (180), at least RETENTION_DAYS: how long a
   * finished bulk with a failed operation (NOT_RETRIABLY_FAILED) is kept, for retryBulk and for a look.
   */
  readonly failedRetentionDays: number
  /**
   * `ORDER_GIVE_UP_AFTER_SECONDS`, default 86400 (a day): how long an order whose forward step gave
   * up waits for retryOrder before it is canceled (STEP_GAVE_UP), if its stock has not shipped.
   */
  readonly orderGiveUpAfterSeconds: number
  /** `IDEMPOTENCY_TTL_HOURS`, default 24 (the least the contract promises): idempotency keys older than this are deleted. */
  readonly idempotencyTtlHours: number
  /** `RETENTION_CRON`, default `23 * * * *` (hourly, UTC): when pg-boss runs the retention job. */
  readonly retentionCron: string
  /** Limits against hostile or broken clients (src/api/security/, docs/security.md). */
  readonly limits: LimitsConfig
  /**
   * JWTs for user-facing clients (docs/security.md): `JWT_ISSUER`, `JWT_AUDIENCE` and one of
   * `JWT_SECRET` or `JWT_JWKS_URL`. Unset (no `JWT_ISSUER`): JWTs are not accepted at all.
   */
  readonly jwt: JwtConfig | undefined
  /** Failed-authentication limits and what each role may do (src/api/auth/options.ts, docs/security.md). */
  readonly auth: AuthConfig
  /** The outside systems of the post-order chain and their local stand-ins (src/adapters/). */
  readonly adapters: AdaptersConfig
  /**
   * Fairness between owners (src/operations/fairness.ts): `OWNER_MAX_OPERATIONS_IN_FLIGHT` (default
   * 1000, 0: no limit), `OWNER_MAX_OPEN_BULKS` (default 0: no limit), `SINGLE_OPERATIONS_FIRST` (default true).
   */
  readonly fairness: FairnessOptions
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
  const retentionDays = integer(env, 'RETENTION_DAYS', 60, 1, 36_500)
  const jobPolicy = Object.freeze({
    retryLimit: optionalInteger(env, 'JOB_RETRY_LIMIT', 0, 100),
    retryDelaySeconds: optionalInteger(env, 'JOB_RETRY_DELAY_SECONDS', 0, 86_400),
    expireInSeconds: optionalInteger(env, 'JOB_EXPIRE_SECONDS', 1, 86_400)
  })
  const adaptersConfig = adapters(env, dataDir)
  checkAttemptBudgets(jobPolicy.expireInSeconds, adaptersConfig)
  return Object.freeze({
    roles: Object.freeze([...roles]),
    databaseUrl: databaseUrl(env),
    dataDir,
    exportDir: path.resolve(env.EXPORT_DIR?.trim() || path.join(dataDir, 'exports')),
    embeddedPgPort: integer(env, 'EMBEDDED_PG_PORT', 0, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    port: integer(env, 'PORT', 4000, 0, 65535),
    healthPort: optionalInteger(env, 'HEALTH_PORT', 0, 65535),
    metricsToken: secret(env, 'METRICS_TOKEN'),
    sharedSubscriptions: flag(env, 'SHARED_SUBSCRIPTIONS', true),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dbTimeouts: Object.freeze({
      acquireMs: integer(env, 'DB_ACQUIRE_TIMEOUT_MS', 30_000, 0, 3_600_000),
      statementMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 60_000, 0, 86_400_000),
      idleInTransactionMs: integer(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 0, 86_400_000)
    }),
    bossSchema,
    bossPoolSize: integer(env, 'PGBOSS_POOL_SIZE', 10, 1, 1000),
    maxBulkSize: integer(env, 'MAX_BULK_SIZE', 100_000, 1, 10_000_000),
    workerConcurrency: optionalInteger(env, 'WORKER_CONCURRENCY', 1, 1000),
    workerBatchSize: optionalInteger(env, 'WORKER_BATCH_SIZE', 1, 10_000),
    bulkChunkSize: Math.min(integer(env, 'BULK_CHUNK_SIZE', DEFAULT_CHUNK_SIZE, 1, 10_000), optionalInteger(env, 'WORKER_BATCH_SIZE', 1, 10_000) ?? Infinity),
    workerTopics: topicPatterns(env),
    jobPolicy,
    bossMonitorIntervalSeconds: integer(env, 'PGBOSS_MONITOR_INTERVAL_SECONDS', 30, 1, 3600),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, 0, 3_600_000),
    adminToken: adminToken(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    publicUrl: publicUrl(env),
    pgBossDashboardUrl: httpUrl(env, 'PGBOSS_DASHBOARD_URL', 'http://localhost:8671'),
    webhookSecret: secret(env, 'WEBHOOK_SECRET'),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
    webhookAllowPrivate: oneOf(env, 'WEBHOOK_ALLOW_PRIVATE', ['true', 'false'], 'false') === 'true',
    webhookRetryLimit: optionalInteger(env, 'WEBHOOK_RETRY_LIMIT', 0, 100),
    webhookRetryDelaySeconds: optionalInteger(env, 'WEBHOOK_RETRY_DELAY_SECONDS', 0, 86_400),
    webhookSweepSeconds: integer(env, 'WEBHOOK_SWEEP_SECONDS', 300, 1, 86_400),
    retentionDays,
    failedRetentionDays: integer(env, 'FAILED_RETENTION_DAYS', Math.min(3 * retentionDays, 36_500), retentionDays, 36_500),
    orderGiveUpAfterSeconds: integer(env, 'ORDER_GIVE_UP_AFTER_SECONDS', 86_400, 0, 365 * 86_400),
    // Keys are kept at least 24 h: the contract of idempotencyKey (issue 3).
    idempotencyTtlHours: integer(env, 'IDEMPOTENCY_TTL_HOURS', 24, 24, 876_000),
    retentionCron: env.RETENTION_CRON?.trim() || '23 * * * *',
    limits: limits(env),
    jwt: jwt(env),
    auth: auth(env),
    adapters: adaptersConfig,
    fairness: Object.freeze({
      maxOperationsInFlight: integer(env, 'OWNER_MAX_OPERATIONS_IN_FLIGHT', DEFAULT_FAIRNESS.maxOperationsInFlight, 0, 1_000_000),
      maxOpenBulks: integer(env, 'OWNER_MAX_OPEN_BULKS', DEFAULT_FAIRNESS.maxOpenBulks, 0, 1_000_000),
      singleOperationsFirst: flag(env, 'SINGLE_OPERATIONS_FIRST', DEFAULT_FAIRNESS.singleOperationsFirst)
    })
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
