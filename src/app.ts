import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { findBulk, findOperation, listBulks, listOperations, sameBulkView, type BulkView } from './operations/read.ts'
import { acceptOperations } from './operations/accept.ts'
import { acknowledgeBulk, cancelBulk, retryBulk } from './operations/control.ts'
import { createAuthenticator } from './api/auth/authenticate.ts'
import { TokenCache } from './access/tokenCache.ts'
import { createJwtVerifier } from './api/auth/jwt.ts'
import type { Viewer } from './access/principal.ts'
import { createApiToken, ensureAdminToken, listApiTokens, revokeApiTokenById } from './access/tokens.ts'
import { publicBaseUrl, type Config } from './config/config.ts'
import { openDatabase, type Database } from './platform/db/database.ts'
import { migrate } from './platform/db/migrate.ts'
import { createPool } from './platform/db/pool.ts'
import { isFinished } from './operations/domain/status.ts'
import type { Services } from './api/graphql/services.ts'
import { schema } from './api/graphql/schema.ts'
import { createBoss, ensureQueues } from './platform/jobs/boss.ts'
import { ensureServiceQueues, startServiceWorker } from './platform/jobs/serviceTopics.ts'
import { createStatisticsKeeper } from './platform/jobs/statistics.ts'
import { serviceTopicsWith } from './operations/topics.ts'
import { TOPICS, topicsWith } from './topics.ts'
import { startWorkers } from './operations/workers.ts'
import type { Logger } from './platform/log.ts'
import { deadNotificationHandler, notificationHandler } from './operations/webhooks/deliver.ts'
import { listUnnotifiedFinishedBulks, notifyIfFinished } from './operations/webhooks/enqueue.ts'
import { FinishWatcher } from './operations/webhooks/finishWatcher.ts'
import { listNotifications } from './operations/webhooks/read.ts'
import { resultsUrl } from './operations/results.ts'
import { retentionHandler, scheduleRetention } from './operations/retention.ts'
import { createGraphQLServer, type GraphQLServer } from './api/http.ts'
import { resultsRoute } from './api/resultsRoute.ts'
import { createLimits } from './api/security/limits.ts'
import { BulkStatusFeed } from './operations/statusFeed.ts'
import { OrderProgressFeed } from './orders/progressFeed.ts'
import { findOrder, findOrderId, listOrders, placementEnded, readOrderEvents } from './orders/read.ts'
import { findInventoryItem } from './inventory/read.ts'
import { createOutsideSystems } from './adapters/index.ts'
import { chainTopicsWith } from './orders/chain/topics.ts'
import { DEMO_SKUS, seedDemoCatalog } from './inventory/seed.ts'
import { rebuildIfIncomplete } from './orders/rebuild.ts'
import { startChainWorkers } from './orders/chain/workers.ts'
import { selectTopics } from './platform/jobs/topicFilter.ts'

/** The feed's own reads: it serves subscribers already authorized for the bulk. */
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
  stop (): Promise<void>
}

/**
 * The composition root: opens the database, migrates it, starts pg-boss, then the roles this
 * process plays. Stopping reverses it: stop accepting, let in-flight jobs finish within the
 * configured bound, close connections, stop an embedded database this process started.
 */
export async function startApp (config: Config, log: Logger): Promise<App> {
  const stack: Array<() => Promise<void>> = []
  const stop = async (): Promise<void> => {
    while (stack.length > 0) await stack.pop()!().catch((error: Error) => log.warn('error while stopping', { error }))
  }
  try {
    const database: Database = await openDatabase(config, log)
    if (database.embedded?.owned) stack.push(async () => await database.embedded!.stop())

    const pool = createPool(database.url, config.dbPoolSize, `order-ops-gateway:${config.roles.join('+')}`, log)
    stack.push(async () => await pool.end())
    await migrate(pool, log)
    const firstToken = await ensureAdminToken(pool, config.adminToken, database.embedded !== undefined, log)
    if (firstToken !== undefined) {
      log.warn(`no API token existed, so this admin token was created; it is shown only now:\n\n    ${firstToken}\n\n` +
        '  Send it as `Authorization: Bearer <token>`. More tokens: `npm run --silent token -- create --owner <name> --role integration`' +
        ' (or createApiToken over GraphQL); set ADMIN_TOKEN to choose your own.')
    }

    const rebuilt = await rebuildIfIncomplete(pool)
    if (rebuilt !== null) log.info(`read models rebuilt from the event log: ${rebuilt.orders} order(s), ${rebuilt.inventory} SKU(s)`)
    if (database.embedded !== undefined) {
      const created = await seedDemoCatalog(pool)
      if (created > 0) log.info(`demo catalog seeded: ${created} SKU(s), ${DEMO_SKUS[0]} to ${DEMO_SKUS.at(-1)}`)
    }

    const boss = createBoss(config, database.url, log)
    await boss.start()
    stack.push(async () => await boss.stop({ graceful: true, timeout: config.shutdownTimeoutMs }))
    const topics = topicsWith(config.jobPolicy)
    await ensureQueues(boss, topics, config.roles.includes('worker'))
    const chainTopics = chainTopicsWith({ ...config.jobPolicy, batchSize: config.workerBatchSize, concurrency: config.workerConcurrency })
    await ensureQueues(boss, chainTopics, config.roles.includes('worker'))
    const serviceTopics = serviceTopicsWith(config)
    await ensureServiceQueues(boss, Object.values(serviceTopics), [...topics, ...chainTopics].flatMap(topic => [topic.queue, topic.deadLetterQueue]),
      config.retentionDays, config.roles.includes('worker'))
    // PUBLIC_URL, else http://localhost:<port>: the port is the one bound, once the gateway listens.
    let publicUrl = publicBaseUrl(config)

    if (config.roles.includes('worker')) {
      const consumed = new Set(selectTopics([...topics, ...chainTopics], config.workerTopics).map(topic => topic.queue))
      await startWorkers(boss, topics.filter(topic => consumed.has(topic.queue)), { pool, boss, log }, { concurrency: config.workerConcurrency, batchSize: config.workerBatchSize })
      const systems = createOutsideSystems(config.adapters, { pool, log })
      stack.push(async () => await systems.close())
      await startChainWorkers(boss, chainTopics.filter(topic => consumed.has(topic.queue)), { pool, boss, log, systems })
      log.info('workers started', { queues: [...consumed].join(',') })
      await startServiceWorker(boss, serviceTopics.notifyBulk, notificationHandler({
        pool, boss, log, topic: serviceTopics.notifyBulk, secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivate
      }), deadNotificationHandler({ pool }))
      if (config.webhookSecret === undefined) log.warn('WEBHOOK_SECRET is not set: webhooks to notifyUrl will not be sent')
      await startServiceWorker(boss, serviceTopics.retention, retentionHandler({
        db: pool, log, options: { retentionDays: config.retentionDays, idempotencyTtlHours: config.idempotencyTtlHours }
      }))
      await scheduleRetention(boss, config.retentionCron)
    }

    let graphqlUrl: string | undefined
    let watchedBulks = (): number => 0
    let watchedOrders = (): number => 0
    if (config.roles.includes('gateway')) {
      // The feed loads for every subscriber of a bulk at once; each was authorized when it subscribed.
      const feed = new BulkStatusFeed<BulkView>(database.url, async (uuid) => await findBulk(pool, ALL_OWNERS, uuid), log)
      await feed.start()
      stack.push(async () => await feed.stop())
      watchedBulks = () => feed.watchedBulks
      // One LISTEN order_changed for every orderProgress subscriber here; each was authorized when it subscribed.
      const orderFeed = new OrderProgressFeed(database.url, {
        readEvents: async (orderId, afterVersion) => await readOrderEvents(pool, orderId, afterVersion),
        placementEnded: async (orderId) => await placementEnded(pool, orderId)
      }, log)
      await orderFeed.start()
      stack.push(async () => await orderFeed.stop())
      watchedOrders = () => orderFeed.watchedOrders
      const statistics = createStatisticsKeeper(pool, boss, config.bossSchema, TOPICS.placeOrder.queue, log)
      stack.push(async () => await statistics.settled())

      const tokens = new TokenCache(pool, { connectionString: database.url, log })
      await tokens.start()
      stack.push(async () => await tokens.stop())

      const control = { pool, boss }
      const services: Services = {
        placeOrders: async (request) => await acceptOperations(
          { pool, boss, maxBulkSize: config.maxBulkSize, afterEnqueue: statistics.enqueued }, request),
        retryBulk: async (viewer, uuid, errorCodes, operationIds) => await retryBulk(control, viewer, uuid, errorCodes, operationIds),
        cancelBulk: async (viewer, uuid) => await cancelBulk(control, viewer, uuid),
        acknowledgeBulk: async (viewer, uuid) => await acknowledgeBulk(control, viewer, uuid),
        createApiToken: async (owner, role) => await createApiToken(pool, owner, role),
        revokeApiToken: async (id) => {
          const revoked = await revokeApiTokenById(pool, id)
          tokens.invalidate()
          return revoked
        },
        bulk: async (viewer, uuid) => await findBulk(pool, viewer, uuid),
        bulks: async (viewer, filter, page) => await listBulks(pool, viewer, filter, page),
        apiTokens: async () => await listApiTokens(pool),
        operations: async (bulkUuid, filter, page) => await listOperations(pool, bulkUuid, filter, page),
        operation: async (viewer, id) => await findOperation(pool, viewer, id),
        nextRetryAt: async (operation) => {
          if (!operation.job_id) return null
          const job = await boss.getJobById(operation.topic, operation.job_id)
          return job?.state === 'retry' ? job.startAfter : null
        },
        watchBulk: (uuid) => feed.watch(uuid, (view) => isFinished(view.status), sameBulkView),
        resultsUrl: (bulkUuid) => resultsUrl(publicUrl, bulkUuid),
        bulkNotifications: async (bulkUuid) => await listNotifications(pool, bulkUuid),
        order: async (viewer, orderNumber) => await findOrder(pool, viewer, orderNumber),
        orders: async (viewer, status, page) => await listOrders(pool, viewer, status, page),
        orderEvents: async (orderId) => await readOrderEvents(pool, orderId),
        orderId: async (viewer, orderNumber) => await findOrderId(pool, viewer, orderNumber),
        watchOrder: (orderId) => orderFeed.watch(orderId),
        inventory: async (sku) => await findInventoryItem(pool, sku)
      }
      // API tokens first, then JWTs when JWT_ISSUER is set: one function for HTTP, WebSocket and the results file.
      const jwtVerifier = config.jwt !== undefined ? createJwtVerifier(config.jwt, log) : undefined
      const authenticate = createAuthenticator(async (bearer) => await tokens.authenticate(bearer), jwtVerifier ? [jwtVerifier] : [])
      const limits = createLimits(config.limits, pool)
      const server: GraphQLServer = createGraphQLServer(schema, services, log, [resultsRoute({ db: pool, log, authenticate, rateLimit: limits.rateLimit })],
        authenticate, limits)
      const port = await server.listen(config.port, config.host)
      publicUrl = publicBaseUrl(config, port)
      stack.push(async () => await server.close(config.shutdownTimeoutMs))
      const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
      graphqlUrl = `http://${shownHost}:${port}/graphql`
      log.info('GraphQL ready (HTTP and graphql-ws; GraphiQL in a browser)', { url: graphqlUrl })
    }

    if (config.roles.includes('worker')) {
      // Started after the gateway, whose bound port the default PUBLIC_URL (the webhooks' resultsUrl) needs.
      const watcher = new FinishWatcher({
        connectionString: database.url,
        check: async (uuid) => await notifyIfFinished({ pool, boss, publicUrl }, uuid),
        unnotified: async (after, limit) => await listUnnotifiedFinishedBulks(pool, after, limit),
        log
      })
      stack.push(async () => await watcher.stop())
      await watcher.start()
    }

    return { databaseUrl: database.url, graphqlUrl, pool, boss, watchedBulks: () => watchedBulks(), watchedOrders: () => watchedOrders(), stop }
  } catch (error) {
    await stop()
    throw error
  }
}
