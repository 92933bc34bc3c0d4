import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import { findBulk, listOperations, sameBulkView, type BulkView } from './bulks/read.ts'
import { acceptOrders } from './commands/acceptOrders.ts'
import type { Config } from './config.ts'
import { openDatabase, type Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { createPool } from './db/pool.ts'
import { isFinished } from './domain/bulk/status.ts'
import type { Services } from './graphql/services.ts'
import { schema } from './graphql/schema.ts'
import { createBoss, ensureQueues } from './jobs/boss.ts'
import { createStatisticsKeeper } from './jobs/statistics.ts'
import { TOPICS, topicsWith } from './jobs/topology.ts'
import { startWorkers } from './jobs/worker.ts'
import type { Logger } from './log.ts'
import { createGraphQLServer, type GraphQLServer } from './server/http.ts'
import { BulkStatusFeed } from './status/feed.ts'

export interface App {
  /** The database this process uses (embedded or DATABASE_URL). */
  readonly databaseUrl: string
  /** `http://host:port/graphql` when this process runs the gateway role. */
  readonly graphqlUrl: string | undefined
  readonly pool: pg.Pool
  readonly boss: PgBoss
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

    const boss = createBoss(config, database.url, log)
    await boss.start()
    stack.push(async () => await boss.stop({ graceful: true, timeout: config.shutdownTimeoutMs }))
    const topics = topicsWith(config.jobPolicy)
    await ensureQueues(boss, topics)

    if (config.roles.includes('worker')) {
      await startWorkers(boss, topics, { pool, boss, log }, { concurrency: config.workerConcurrency, batchSize: config.workerBatchSize })
      log.info('workers started', { queues: topics.map(topic => topic.queue).join(',') })
    }

    let graphqlUrl: string | undefined
    if (config.roles.includes('gateway')) {
      const feed = new BulkStatusFeed<BulkView>(database.url, async (uuid) => await findBulk(pool, uuid), log)
      await feed.start()
      stack.push(async () => await feed.stop())
      const statistics = createStatisticsKeeper(pool, boss, config.bossSchema, TOPICS.placeOrder.queue, log)
      stack.push(async () => await statistics.settled())

      const services: Services = {
        placeOrders: async (inputs, description) => await acceptOrders(
          { pool, boss, maxBulkSize: config.maxBulkSize, afterEnqueue: statistics.enqueued }, inputs, description),
        bulk: async (uuid) => await findBulk(pool, uuid),
        operations: async (bulkUuid, status, page) => await listOperations(pool, bulkUuid, status, page),
        watchBulk: (uuid) => feed.watch(uuid, (view) => isFinished(view.status), sameBulkView)
      }
      const server: GraphQLServer = createGraphQLServer(schema, { services }, log)
      const port = await server.listen(config.port, config.host)
      stack.push(async () => await server.close())
      const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
      graphqlUrl = `http://${shownHost}:${port}/graphql`
      log.info('GraphQL ready (HTTP and graphql-ws; GraphiQL in a browser)', { url: graphqlUrl })
    }

    return { databaseUrl: database.url, graphqlUrl, pool, boss, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
