import { PgBoss } from 'pg-boss'
import { toError, type Logger } from '../log.ts'

/**
 * pg-boss on the gateway's database, in its own schema. LISTEN/NOTIFY wakes workers the moment
 * a job commits; polling stays on as the backstop pg-boss guarantees.
 */
export interface BossOptions {
  /** The schema pg-boss keeps its tables in. */
  readonly bossSchema: string
  /** Connections of pg-boss's own pool. */
  readonly bossPoolSize: number
  /** How often pg-boss looks for expired jobs. */
  readonly bossMonitorIntervalSeconds: number
}

export function createBoss (config: BossOptions, connectionString: string, log: Logger): PgBoss {
  const boss = new PgBoss({
    connectionString,
    schema: config.bossSchema,
    max: config.bossPoolSize,
    application_name: 'order-ops-gateway:pgboss',
    useListenNotify: true,
    // Expired jobs (a worker died mid-job) are found by the monitor; see docs/operations.md.
    // The monitor only runs inside a supervise pass (every 60 s by default), so both intervals are set.
    monitorIntervalSeconds: config.bossMonitorIntervalSeconds,
    superviseIntervalSeconds: config.bossMonitorIntervalSeconds,
    // pg-boss's own spans are off: the jobs carry their trace in their data instead
    // (src/platform/tracing/tracing.ts). pg-boss continues a job's trace only for a batch of one job,
    // and gives a larger batch a trace of its own linked to the jobs' ones; our placement and chain
    // workers take batches of up to 500 and 50, so under load an order's trace would break at every
    // batched step. Ours gives every job of a batch a span in its own trace.
    openTelemetry: { enabled: false }
  })
  // Background failures are reported here, never thrown into the process.
  boss.on('error', (error: unknown) => log.error('pg-boss error', { error: toError(error) }))
  boss.on('warning', (warning: { message: string }) => log.warn('pg-boss warning', { message: warning.message }))
  return boss
}

/**
 * A dead letter queue's consumer only records that an operation was given up on; it must not give
 * up itself (an operation would then stay OPEN), so its own jobs are retried for a long time.
 */
export const DEAD_LETTER_POLICY = Object.freeze({ notify: true, retryLimit: 50, retryDelay: 5, retryBackoff: true, retryDelayMax: 600 })

/** What a queue's policy is made of: the operation topics and the chain's topics have these. */
export interface QueuePolicy {
  /** pg-boss queue name. */
  readonly queue: string
  /** Where pg-boss moves a job whose retries are used up. */
  readonly deadLetterQueue: string
  /** Retries after the first attempt, the first delay in seconds, and exponential backoff up to a maximum. */
  readonly retryLimit: number
  readonly retryDelaySeconds: number
  readonly retryBackoff: boolean
  readonly retryDelayMaxSeconds: number
  /** How long one attempt may run; after it pg-boss fails the job and retries it elsewhere. */
  readonly expireInSeconds: number
  /**
   * pg-boss's heartbeat, for attempts that may run long (at least 10 s): the worker touches its jobs
   * every half of it, and a job not touched for this long (its worker died) is retried after it and
   * the monitor's interval, not after the whole expiry. Unset: none.
   */
  readonly heartbeatSeconds?: number | undefined
}

/**
 * Creates each topic's queue and dead letter queue when missing. With `updatePolicy` (the worker
 * role, which owns the retry and expiry policy), also brings an existing queue's policy up to date,
 * so that a gateway started with other JOB_* settings does not rewrite what the workers run with.
 */
export async function ensureQueues (boss: PgBoss, topics: readonly QueuePolicy[], updatePolicy: boolean): Promise<void> {
  for (const topic of topics) {
    await ensureQueue(boss, topic.deadLetterQueue, DEAD_LETTER_POLICY, updatePolicy)
    await ensureQueue(boss, topic.queue, {
      notify: true,
      deadLetter: topic.deadLetterQueue,
      retryLimit: topic.retryLimit,
      retryDelay: topic.retryDelaySeconds,
      retryBackoff: topic.retryBackoff,
      // pg-boss takes a maximum only for a backoff (JOB_RETRY_DELAY_SECONDS=0 turns it off).
      ...(topic.retryBackoff ? { retryDelayMax: topic.retryDelayMaxSeconds } : {}),
      expireInSeconds: topic.expireInSeconds,
      ...(topic.heartbeatSeconds !== undefined ? { heartbeatSeconds: topic.heartbeatSeconds } : {}),
      // A 100,000-order bulk is a normal backlog here, not a warning.
      warningQueueSize: 250_000
    }, updatePolicy)
  }
}

type QueueOptions = Parameters<PgBoss['createQueue']>[1]

export async function ensureQueue (boss: PgBoss, name: string, options: NonNullable<QueueOptions>, updatePolicy = true): Promise<void> {
  if (!await boss.getQueue(name)) {
    // create_queue does nothing when another process created it first.
    await boss.createQueue(name, options)
  } else if (updatePolicy) {
    // A heartbeat left out is turned off (null), so that a policy without one does not keep an old one.
    await boss.updateQueue(name, { ...options, heartbeatSeconds: options.heartbeatSeconds ?? null })
  }
}

/** Jobs a pg-boss command changed. Its CommandResponse type is declared empty; the object carries `affected`. */
export function affectedBy (response: object): number {
  const affected = (response as { affected?: unknown }).affected
  if (typeof affected !== 'number') throw new Error('pg-boss answered without an affected count')
  return affected
}
