import type { PgBoss } from 'pg-boss'
import { collectedGauge } from '../metrics.ts'

const queueJobs = collectedGauge('queue_jobs',
  'Jobs of a pg-boss queue by state, as of pg-boss\'s last monitor pass (PGBOSS_MONITOR_INTERVAL_SECONDS): ' +
  'queued (ready + deferred + blocked), ready (may run now), deferred (startAfter ahead: retries waiting for their backoff), active, failed (retained)',
  ['queue', 'state'])
const oldestReady = collectedGauge('queue_oldest_ready_seconds',
  'How long the oldest job ready to run of a pg-boss queue had waited, at pg-boss\'s last monitor pass', ['queue'])

/**
 * Reports every queue's depth from pg-boss's own counts (getQueues: one read of its queue table,
 * which its monitor keeps up to date), not from a count of the job table at each scrape.
 */
export function watchQueues (boss: PgBoss): () => void {
  const removeJobs = queueJobs.add(async (set) => {
    for (const queue of await boss.getQueues()) {
      set({ queue: queue.name, state: 'queued' }, queue.queuedCount)
      set({ queue: queue.name, state: 'ready' }, queue.readyCount)
      set({ queue: queue.name, state: 'deferred' }, queue.deferredCount)
      set({ queue: queue.name, state: 'active' }, queue.activeCount)
      set({ queue: queue.name, state: 'failed' }, queue.failedCount)
    }
  })
  const removeOldest = oldestReady.add(async (set) => {
    for (const queue of await boss.getQueues()) {
      if (queue.readyOldestSeconds !== null) set({ queue: queue.name }, queue.readyOldestSeconds)
    }
  })
  return () => { removeJobs(); removeOldest() }
}
