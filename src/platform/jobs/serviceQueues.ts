import type { PgBoss } from 'pg-boss'
import { DEAD_LETTER_POLICY, ensureQueue } from './boss.ts'
import type { ServiceTopicDefinition } from '../../operations/topics.ts'

type QueueOptions = NonNullable<Parameters<PgBoss['createQueue']>[1]>

/** pg-boss's default for completed jobs (deleteAfterSeconds): a week. */
const PGBOSS_DEFAULT_DELETE_AFTER_DAYS = 7

/**
 * pg-boss's own retention, matched to ours (RETENTION_DAYS, src/operations/retention.ts):
 * - a job still waiting (created or retry) is kept as long as its bulk may be: pg-boss would
 *   otherwise delete it after 14 days and leave its operation OPEN for good;
 * - a finished job is kept no longer than its bulk: a week (pg-boss's default), or less when
 *   bulks are kept less. It carries only an id; the operation row keeps the outcome.
 */
export function jobRetention (retentionDays: number): Pick<QueueOptions, 'retentionSeconds' | 'deleteAfterSeconds'> {
  return {
    retentionSeconds: retentionDays * 86_400,
    deleteAfterSeconds: Math.min(retentionDays, PGBOSS_DEFAULT_DELETE_AFTER_DAYS) * 86_400
  }
}

/**
 * Creates each service topic's queue (and dead letter queue) when missing, and applies the job
 * retention to them and to `otherQueues` (the operation topics' queues, which ensureQueues in
 * src/platform/jobs/boss.ts creates). As there, only with `updatePolicy` (the worker role, which runs these
 * jobs and the retention) is an existing queue's policy brought up to date. Safe from every process.
 */
export async function ensureServiceQueues (boss: PgBoss, topics: readonly ServiceTopicDefinition[], otherQueues: readonly string[],
  retentionDays: number, updatePolicy: boolean): Promise<void> {
  const retention = jobRetention(retentionDays)
  for (const topic of topics) {
    if (topic.deadLetterQueue !== undefined) await ensureQueue(boss, topic.deadLetterQueue, { ...DEAD_LETTER_POLICY, ...retention }, updatePolicy)
    await ensureQueue(boss, topic.queue, {
      notify: true,
      ...(topic.deadLetterQueue !== undefined ? { deadLetter: topic.deadLetterQueue } : {}),
      retryLimit: topic.retryLimit,
      retryDelay: topic.retryDelaySeconds,
      retryBackoff: topic.retryBackoff,
      ...(topic.retryBackoff ? { retryDelayMax: topic.retryDelayMaxSeconds } : {}),
      expireInSeconds: topic.expireInSeconds,
      ...retention
    }, updatePolicy)
  }
  if (updatePolicy) for (const name of otherQueues) await boss.updateQueue(name, retention)
}
