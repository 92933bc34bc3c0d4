import { PgBoss } from 'pg-boss'
import type { Config } from '../config.ts'
import { toError, type Logger } from '../log.ts'
import type { TopicDefinition } from './topology.ts'

/**
 * pg-boss on the gateway's database, in its own schema. LISTEN/NOTIFY wakes workers the moment
 * a job commits; polling stays on as the backstop pg-boss guarantees.
 */
export function createBoss (config: Config, connectionString: string, log: Logger): PgBoss {
  const boss = new PgBoss({
    connectionString,
    schema: config.bossSchema,
    max: config.bossPoolSize,
    application_name: 'order-ops-gateway:pgboss',
    useListenNotify: true,
    // Expired jobs (a worker died mid-job) are found by the monitor; see README "Stuck work".
    // The monitor only runs inside a supervise pass (every 60 s by default), so both intervals are set.
    monitorIntervalSeconds: config.bossMonitorIntervalSeconds,
    superviseIntervalSeconds: config.bossMonitorIntervalSeconds
  })
  // Background failures are reported here, never thrown into the process.
  boss.on('error', (error: unknown) => log.error('pg-boss error', { error: toError(error) }))
  boss.on('warning', (warning: { message: string }) => log.warn('pg-boss warning', { message: warning.message }))
  return boss
}

/** Creates each topic's queue and dead letter queue, or brings their policy up to date. Safe to run from every process. */
export async function ensureQueues (boss: PgBoss, topics: readonly TopicDefinition[]): Promise<void> {
  for (const topic of topics) {
    await ensureQueue(boss, topic.deadLetterQueue, { notify: true, retryLimit: 2, retryDelay: 5 })
    await ensureQueue(boss, topic.queue, {
      notify: true,
      deadLetter: topic.deadLetterQueue,
      retryLimit: topic.retryLimit,
      retryDelay: topic.retryDelaySeconds,
      retryBackoff: topic.retryBackoff,
      retryDelayMax: topic.retryDelayMaxSeconds,
      expireInSeconds: topic.expireInSeconds
    })
  }
}

type QueueOptions = Parameters<PgBoss['createQueue']>[1]

async function ensureQueue (boss: PgBoss, name: string, options: NonNullable<QueueOptions>): Promise<void> {
  if (await boss.getQueue(name)) {
    await boss.updateQueue(name, options)
  } else {
    // create_queue does nothing when another process created it first; update to be sure of the policy.
    await boss.createQueue(name, options)
    await boss.updateQueue(name, options)
  }
}
