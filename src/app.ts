import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { Viewer } from './access/principal.ts'
import { RevocationWatch } from './access/revocations.ts'
import { TokenCache } from './access/tokenCache.ts'
import { ensureAdminToken } from './access/tokens.ts'
import { createOutsideSystems } from './adapters/index.ts'
import { createAuthenticator } from './api/auth/authenticate.ts'
import { createJwtVerifier } from './api/auth/jwt.ts'
import { useEndOnRevocation } from './api/auth/revocation.ts'
import { SharedSubscriptions, useSharedSubscriptions } from './api/graphql/sharedSubscriptions.ts'
import { schema } from './api/graphql/schema.ts'
import { dashboardRoute } from './api/dashboard/route.ts'
import { healthRoute, startHealthServer } from './api/health.ts'
import { metricsRoute } from './api/metricsRoute.ts'
import { createGraphQLServer, GRAPHIQL_TITLE } from './api/http.ts'
import { graphiqlPage } from './api/graphiql.ts'
import { graphqlTracingPlugins } from './api/tracing.ts'
import { resultsRoute } from './api/resultsRoute.ts'
import { restRoute } from './api/rest/restRoute.ts'
import { createLimits } from './api/security/limits.ts'
import { publicBaseUrl, type Config } from './config/config.ts'
import { callTimeoutsMs } from './config/timeouts.ts'
import { DEMO_SKUS, seedDemoCatalog } from './inventory/seed.ts'
import { findBulk, type BulkView } from './operations/read.ts'
import { retentionHandler, scheduleRetention } from './operations/retention.ts'
import { BulkStatusFeed } from './operations/statusFeed.ts'
import { removeOrphanedSpools } from './operations/spool.ts'
import { serviceTopicsWith, type ServiceTopics } from './operations/topics.ts'
import { deadNotificationHandler, notificationHandler } from './operations/webhooks/deliver.ts'
import { listUnnotifiedFinishedBulks, notifyIfFinished } from './operations/webhooks/enqueue.ts'
import { FinishWatcher } from './operations/webhooks/finishWatcher.ts'
import { startWorkers } from './operations/workers.ts'
import type { TopicDefinition } from './operations/runner.ts'
import { chainTopicsWith, type ChainTopic } from './orders/chain/topics.ts'
import { startChainWorkers } from './orders/chain/workers.ts'
import { GIVE_UP_TOPIC, giveUpHandler, type GiveUpJob } from './orders/chain/giveUp.ts'
import { OrderProgressFeed } from './orders/progressFeed.ts'
import { placementEnded, readOrderEvents } from './orders/read.ts'
import { rebuildIfIncomplete } from './orders/rebuild.ts'
import { openDatabase, type Database } from './platform/db/database.ts'
import { migrate } from './platform/db/migrate.ts'
import { createPool } from './platform/db/pool.ts'
import { watchPool } from './platform/db/poolMetrics.ts'
import { watchQueues } from './platform/jobs/queueMetrics.ts'
import { watchBulks } from './operations/metrics.ts'
import { showFirstToken } from './access/firstToken.ts'
import { createBoss, ensureQueues } from './platform/jobs/boss.ts'
import { ensureServiceQueues, startServiceWorker } from './platform/jobs/serviceTopics.ts'
import { createGroupCommit } from './operations/groupCommit.ts'
import { databaseProbe, listenerProbe, migrationsProbe, Readiness } from './platform/health.ts'
import { selectTopics } from './platform/jobs/topicFilter.ts'
import { flushTraces, startJobTracing } from './platform/tracing/tracing.ts'
import type { Logger } from './platform/log.ts'
import { createRestServices, createServices } from './services.ts'
import { topicsWith } from './topics.ts'

/** The feeds' own reads: they serve subscribers already authorized for the bulk or order. */
const ALL_OWNERS: Viewer = Object.freeze({ owner: null })

export interface App {
  /** The database this process uses (embedded or DATABASE_URL). */
  readonly databaseUrl: string
  /** `http://host:port/graphql` when this process runs the gateway role. */
  readonly graphqlUrl: string | undefined
  readonly pool: pg.Pool
  readonly boss: PgBoss
  /** Bulks with subscribers in this process (gateway role), for metrics and tests. */
  watchedBulks (): number
  /** Orders with orderProgress subscribers in this process (gateway role), for metrics and tests. */
  watchedOrders (): number
  /** Subscription executions started in this process (each shared by the subscribers of one document, variables and caller scope) and the results they produced (gateway role), for metrics and tests. */
  subscriptionExecutions (): { readonly executions: number, readonly results: number }
  /** The port of the health server (HEALTH_PORT), when one runs. */
  readonly healthPort: number | undefined
  stop (): Promise<void>
}

/** What has started, stopped in reverse order: each role pushes how to stop what it started. */
type Stack = Array<() => Promise<void>>

/** What every role stands on, once the database is open and pg-boss has started. */
interface Core {
  readonly config: Config
  readonly log: Logger
  readonly database: Database
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly topics: readonly TopicDefinition[]
  readonly chainTopics: readonly ChainTopic[]
  readonly serviceTopics: ServiceTopics
  /** What GET /ready reports; each role adds its facts. */
  readonly readiness: Readiness
  /** PUBLIC_URL, else http://localhost:<port>: the port is the one bound, once the gateway listens. */
  publicUrl: string
  /** Whether a tracer provider is registered (src/otel.ts): traces are then carried through the jobs. */
  readonly tracing: boolean
  /** The admin token this process created at its first start on the embedded database, if it did. */
  readonly firstToken: string | undefined
}

/**
 * The composition root: opens the database, migrates it, starts pg-boss, then the roles this
 * process plays. Stopping reverses it: stop accepting, let in-flight jobs finish within the
 * configured bound, close connections, stop an embedded database this process started.
 */
export async function startApp (config: Config, log: Logger): Promise<App> {
  const stack: Stack = []
  const stop = async (): Promise<void> => {
    while (stack.length > 0) await stack.pop()!().catch((error: Error) => log.warn('error while stopping', { error }))
  }
  try {
    const core = await startCore(config, log, stack)
    if (config.roles.includes('worker')) await startWorkerRole(core, stack)
    const gateway = config.roles.includes('gateway') ? await startGatewayRole(core, stack) : undefined
    // After the gateway, whose bound port the default PUBLIC_URL (the webhooks' resultsUrl) needs.
    if (config.roles.includes('worker')) await startFinishWatcher(core, stack)
    const health = config.healthPort !== undefined ? await startHealthServer(core.readiness, config.healthPort, config.host, [metricsRoute(config.metricsToken)]) : undefined
    if (health !== undefined) {
      stack.push(async () => await health.close())
      log.info('health checks served', { url: `http://${config.host}:${health.port}/ready` })
    }
    // Last in, so first out: a stopping process says so on /ready before it stops anything.
    stack.push(async () => core.readiness.stopping())
    core.readiness.started()
    return {
      databaseUrl: core.database.url,
      graphqlUrl: gateway?.graphqlUrl,
      pool: core.pool,
      boss: core.boss,
      watchedBulks: () => gateway?.bulkFeed.watchedBulks ?? 0,
      watchedOrders: () => gateway?.orderFeed.watchedOrders ?? 0,
      subscriptionExecutions: () => gateway?.sharedSubscriptions.counts ?? { executions: 0, results: 0 },
      healthPort: health?.port,
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The database (migrated, read models complete, the demo catalog on the embedded default), pg-boss and every queue. */
async function startCore (config: Config, log: Logger, stack: Stack): Promise<Core> {
  // First in, so last out: the spans of stopping are exported too.
  const tracing = await startJobTracing()
  if (tracing) stack.push(flushTraces)
  const database = await openDatabase(config, log)
  if (database.embedded?.owned) stack.push(async () => await database.embedded!.stop())
  const pool = createPool(database.url, config.dbPoolSize, `order-ops-gateway:${config.roles.join('+')}`, log, config.dbTimeouts)
  stack.push(async () => await pool.end())
  const unwatchPool = watchPool('work', pool)
  stack.push(async () => unwatchPool())
  await migrate(pool, log)
  const firstToken = await ensureAdminToken(pool, config.adminToken, database.embedded !== undefined, log)
  if (firstToken !== undefined) showFirstToken(firstToken, log)
  const rebuilt = await rebuildIfIncomplete(pool)
  if (rebuilt !== null) log.info(`read models rebuilt from the event log: ${rebuilt.orders} order(s), ${rebuilt.inventory} SKU(s)`)
  if (database.embedded !== undefined) {
    const created = await seedDemoCatalog(pool)
    if (created > 0) log.info(`demo catalog seeded: ${created} SKU(s), ${DEMO_SKUS[0]} to ${DEMO_SKUS.at(-1)}`)
  }

  const readiness = startReadiness(config, database, log, stack)
  const boss = createBoss(config, database.url, log)
  await boss.start()
  let bossRunning = true
  boss.on('stopped', () => { bossRunning = false })
  readiness.add('queue', () => bossRunning ? null : 'pg-boss stopped')
  stack.push(async () => await boss.stop({ graceful: true, timeout: config.shutdownTimeoutMs }))
  const unwatchQueues = watchQueues(boss)
  stack.push(async () => unwatchQueues())
  // The worker role owns the retry and expiry policy: only it brings an existing queue's policy up to date.
  const ownsPolicy = config.roles.includes('worker')
  const topics = topicsWith(config.jobPolicy)
  await ensureQueues(boss, topics, ownsPolicy)
  const chainTopics = chainTopicsWith({
    ...config.jobPolicy, batchSize: config.workerBatchSize, concurrency: config.workerConcurrency, callTimeoutsMs: callTimeoutsMs(config.adapters)
  })
  await ensureQueues(boss, chainTopics, ownsPolicy)
  const serviceTopics = serviceTopicsWith(config)
  await ensureServiceQueues(boss, [...Object.values(serviceTopics), GIVE_UP_TOPIC], [...topics, ...chainTopics].flatMap(topic => [topic.queue, topic.deadLetterQueue]),
    config.retentionDays, ownsPolicy)
  return { config, log, database, pool, boss, topics, chainTopics, serviceTopics, readiness, publicUrl: publicBaseUrl(config), tracing, firstToken }
}

/** The readiness facts every role shares: the database answers (on a connection of its own) and is migrated. */
function startReadiness (config: Config, database: Database, log: Logger, stack: Stack): Readiness {
  const readiness = new Readiness()
  const healthPool = createPool(database.url, 1, `order-ops-gateway:health:${config.roles.join('+')}`, log)
  stack.push(async () => await healthPool.end())
  readiness.add('database', databaseProbe(healthPool))
  readiness.add('migrations', migrationsProbe(healthPool))
  // The scrape's own query on the probe's connection: it neither waits behind work nor shows as a waiting client of the work pool.
  const unwatchBulks = watchBulks(healthPool)
  stack.push(async () => unwatchBulks())
  return readiness
}

/** The consumers of the topics WORKER_TOPICS selects, and of the webhook and retention jobs. */
async function startWorkerRole (core: Core, stack: Stack): Promise<void> {
  const { config, log, pool, boss, topics, chainTopics, serviceTopics } = core
  const consumed = new Set(selectTopics([...topics, ...chainTopics], config.workerTopics).map(topic => topic.queue))
  await startWorkers(boss, topics.filter(topic => consumed.has(topic.queue)), { pool, boss, log, exportDir: config.exportDir },
    {
      concurrency: config.workerConcurrency,
      batchSize: config.workerBatchSize,
      chunkSize: config.bulkChunkSize,
      groupConcurrency: config.fairness.maxOperationsInFlight === 0 ? undefined : config.fairness.maxOperationsInFlight
    })
  const systems = createOutsideSystems(config.adapters, { pool, log })
  stack.push(async () => await systems.close())
  await startChainWorkers(boss, chainTopics.filter(topic => consumed.has(topic.queue)), { pool, boss, log, systems, giveUpAfterSeconds: config.orderGiveUpAfterSeconds })
  log.info('workers started', { queues: [...consumed].join(',') })
  const giveUp = giveUpHandler({ pool, boss, log })
  await startServiceWorker<GiveUpJob>(boss, GIVE_UP_TOPIC, async (job) => { await giveUp([job]) }, giveUp)
  await startServiceWorker(boss, serviceTopics.notifyBulk, notificationHandler({
    pool, boss, log, topic: serviceTopics.notifyBulk, legacySecret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivate
  }), deadNotificationHandler({ pool }))
  if (config.webhookSecret !== undefined) log.info('WEBHOOK_SECRET is set: webhooks also carry the deprecated X-Signature-256 (docs/bulks.md#webhooks)')
  await startServiceWorker(boss, serviceTopics.retention, retentionHandler({
    db: pool, log, options: { retentionDays: config.retentionDays, failedRetentionDays: config.failedRetentionDays, idempotencyTtlHours: config.idempotencyTtlHours, exportDir: config.exportDir }
  }))
  await scheduleRetention(boss, config.retentionCron)
}

/** The subscription feeds, the token cache and the HTTP and WebSocket server. */
async function startGatewayRole (core: Core, stack: Stack) {
  const { config, log, database, pool, boss } = core
  // The feed loads for every subscriber of a bulk at once; each was authorized when it subscribed.
  const bulkFeed = new BulkStatusFeed<BulkView>(database.url, async (uuid) => await findBulk(pool, ALL_OWNERS, uuid), log)
  await bulkFeed.start()
  stack.push(async () => await bulkFeed.stop())
  // One LISTEN order_changed for every orderProgress subscriber here; each was authorized when it subscribed.
  const orderFeed = new OrderProgressFeed(database.url, {
    readEvents: async (orderId, afterVersion) => await readOrderEvents(pool, orderId, afterVersion),
    placementEnded: async (orderId) => await placementEnded(pool, orderId)
  }, log)
  await orderFeed.start()
  stack.push(async () => await orderFeed.stop())
  core.readiness.add('listener:bulk_changed', listenerProbe(() => bulkFeed.listening))
  core.readiness.add('listener:order_changed', listenerProbe(() => orderFeed.listening))
  const groupCommit = createGroupCommit({ pool, boss, log })
  const tokens = new TokenCache(pool, { connectionString: database.url, log })
  await tokens.start()
  stack.push(async () => await tokens.stop())
  const revocations = new RevocationWatch(pool, tokens, log)
  revocations.start()
  stack.push(async () => await revocations.stop())
  core.readiness.add('listener:api_token_changed', listenerProbe(() => tokens.listening))

  // Uploads spooled by a gateway that was killed before it could delete them (src/operations/spool.ts).
  const orphans = await removeOrphanedSpools()
  if (orphans > 0) log.info('removed the upload spools of gateways that are gone', { spools: orphans })
  const uploads = { maxLineBytes: config.limits.maxJsonlLineBytes, timeoutMs: config.limits.uploadTimeoutSeconds * 1000 }
  const services = createServices({
    pool, boss, maxBulkSize: config.maxBulkSize, customerMaxBulkSize: config.auth.customerMaxBulkSize, fairness: config.fairness, groupCommit, chunkSize: config.bulkChunkSize, tokens, bulkFeed, orderFeed, publicUrl: () => core.publicUrl, uploads
  })
  // API tokens first, then JWTs when JWT_ISSUER is set: one function for HTTP, WebSocket and the results file.
  const jwtVerifier = config.jwt !== undefined ? createJwtVerifier(config.jwt, log) : undefined
  const auth = createAuthenticator(tokens, jwtVerifier ? [jwtVerifier] : [],
    { limit: config.auth.failuresPerWindow, windowSeconds: config.limits.rateLimitWindowSeconds })
  const limits = createLimits(config.limits, pool, error => log.warn('could not give rate-limit leases back', { error }))
  stack.push(async () => await limits.stop())
  // Magento's asynchronous REST API under /rest, with the same credentials and limits (docs/magento-rest.md).
  const rest = restRoute({
    services: createRestServices({ pool, boss, maxBulkSize: config.maxBulkSize, fairness: config.fairness, groupCommit, chunkSize: config.bulkChunkSize }),
    log,
    authenticate: auth.authenticate,
    rateLimit: limits.rateLimit,
    maxBodyBytes: config.limits.maxBodyBytes
  })
  const routes = [healthRoute(core.readiness), metricsRoute(config.metricsToken), resultsRoute({ db: pool, log, authenticate: auth.authenticate, rateLimit: limits.rateLimit, exportDir: config.exportDir }), rest,
    dashboardRoute({ pgBossDashboardUrl: config.pgBossDashboardUrl })]
  const sharedSubscriptions = new SharedSubscriptions()
  const server = createGraphQLServer(schema, services, log, routes, { ...auth, plugins: [useEndOnRevocation(revocations), ...config.sharedSubscriptions ? [useSharedSubscriptions(sharedSubscriptions)] : []] }, limits, {
    observers: await graphqlTracingPlugins(core.tracing),
    // On the embedded default only (a developer's computer): GraphiQL opened from localhost comes with the admin token filled in.
    graphiql: graphiqlPage(GRAPHIQL_TITLE, database.embedded !== undefined ? config.adminToken ?? core.firstToken : undefined)
  })
  const port = await server.listen(config.port, config.host)
  core.publicUrl = publicBaseUrl(config, port)
  stack.push(async () => await server.close(config.shutdownTimeoutMs))
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  const graphqlUrl = `http://${shownHost}:${port}/graphql`
  log.info('GraphQL ready (HTTP and graphql-ws; GraphiQL in a browser)', { url: graphqlUrl })
  return { graphqlUrl, bulkFeed, orderFeed, sharedSubscriptions }
}

/** Notices bulks finishing, to enqueue their webhooks (worker role). */
async function startFinishWatcher (core: Core, stack: Stack): Promise<void> {
  const { log, database, pool, boss } = core
  const watcher = new FinishWatcher({
    connectionString: database.url,
    check: async (uuid) => await notifyIfFinished({ pool, boss, publicUrl: core.publicUrl }, uuid),
    unnotified: async (after, limit) => await listUnnotifiedFinishedBulks(pool, after, limit),
    log,
    sweepMs: core.config.webhookSweepSeconds * 1000
  })
  stack.push(async () => await watcher.stop())
  await watcher.start()
  core.readiness.add('listener:finish-watcher', listenerProbe(() => watcher.listening))
}
