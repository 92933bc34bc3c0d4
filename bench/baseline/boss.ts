/**
 * pg-boss alone, in a process of its own, with the gateway's own settings: the pool, LISTEN/NOTIFY
 * and queue options come from src/platform/jobs/boss.ts and the order.place topic, and the worker options
 * below are those of src/operations/workers.ts. Each run works on a queue of its own.
 *
 * Modes: `insert` (insert() in batches), `send` (send() from concurrent callers for a while),
 * `drain` (a no-op drain of a backlog, with or without ANALYZE after inserting it),
 * `latency` (send → handler start, one job at a time).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import { loadConfig } from '../../src/config/config.ts'
import { createBoss, ensureQueues } from '../../src/platform/jobs/boss.ts'
import type { TopicDefinition } from '../../src/operations/runner.ts'
import { TOPICS } from '../../src/topics.ts'
import { createLogger } from '../../src/platform/log.ts'
import { percentile } from '../lib/stats.ts'
import { params, result } from './protocol.ts'

export type BossBaseline =
  | { mode: 'insert', url: string, jobs: number, batch: number }
  | { mode: 'send', url: string, seconds: number, callers: number }
  | { mode: 'drain', url: string, jobs: number, analyze: boolean }
  | { mode: 'latency', url: string, samples: number, warmup: number }

const input = params<BossBaseline>()
const log = createLogger('warn')
const config = loadConfig({ DATABASE_URL: input.url, LOG_LEVEL: 'warn' }, ['worker'])
const boss = createBoss(config, input.url, log)
await boss.start()
const suffix = randomBytes(4).toString('hex')
const topic: TopicDefinition = { ...TOPICS.placeOrder, queue: `bench.${input.mode}.${suffix}`, deadLetterQueue: `bench.${input.mode}.${suffix}.dead` }
await ensureQueues(boss, [topic], true)

/** The options src/operations/workers.ts gives boss.work() for an operation topic. */
const workOptions = {
  batchSize: topic.batchSize,
  localConcurrency: topic.localConcurrency,
  includeMetadata: true,
  burstWhenBatchFull: true,
  pollingIntervalSeconds: topic.pollingIntervalSeconds,
  notifyPollingIntervalSeconds: topic.pollingIntervalSeconds
} as const

const job = (): { id: string, data: { operationId: string } } => ({ id: randomUUID(), data: { operationId: randomUUID() } })

async function insertJobs (count: number, batch: number): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    await boss.insert(topic.queue, Array.from({ length: Math.min(batch, count - done) }, job))
  }
}

async function run (): Promise<object> {
  switch (input.mode) {
    case 'insert': {
      const start = performance.now()
      await insertJobs(input.jobs, input.batch)
      return { ms: performance.now() - start }
    }
    case 'send': {
      const latencies: number[] = []
      const end = performance.now() + input.seconds * 1000
      const caller = async (): Promise<void> => {
        while (performance.now() < end) {
          const start = performance.now()
          await boss.send(topic.queue, job().data)
          latencies.push(performance.now() - start)
        }
      }
      const start = performance.now()
      await Promise.all(Array.from({ length: input.callers }, caller))
      const ms = performance.now() - start
      return { count: latencies.length, ms, perSecond: latencies.length / (ms / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
    }
    case 'drain':
      return await drain(boss, input.jobs, input.analyze)
    case 'latency':
      return await latency(boss, input.samples, input.warmup)
  }
}

async function drain (boss: PgBoss, jobs: number, analyze: boolean): Promise<object> {
  await insertJobs(jobs, 1000)
  if (analyze) {
    // Fresh statistics of the job table, for the planner-statistics scenario.
    const table = (await boss.getQueue(topic.queue))?.table
    await boss.getDb().executeSql(`ANALYZE ${config.bossSchema}.${table}`)
  }
  let handled = 0
  let first: number | undefined
  let finished: (at: number) => void = () => {}
  const done = new Promise<number>(resolve => { finished = resolve })
  // Timed like the gateway's processing: first job started to last job finished.
  await boss.work(topic.queue, workOptions, async (batch) => {
    first ??= performance.now()
    handled += batch.length
    if (handled >= jobs) finished(performance.now())
  })
  const ms = await done - first!
  return { ms, perSecond: jobs / (ms / 1000) }
}

async function latency (boss: PgBoss, samples: number, warmup: number): Promise<object> {
  let started: ((at: number) => void) | undefined
  await boss.work(topic.queue, workOptions, async () => { started?.(performance.now()) })
  const latencies: number[] = []
  for (let i = 0; i < warmup + samples; i++) {
    const handlerStart = new Promise<number>(resolve => { started = resolve })
    const sent = performance.now()
    await boss.send(topic.queue, job().data)
    const at = await handlerStart
    if (i >= warmup) latencies.push(at - sent)
    // An idle system: let the worker settle back into waiting before the next job.
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length, latencies }
}

try {
  result(await run())
} finally {
  await boss.stop({ graceful: false, timeout: 1000 })
}
