import type { JobInsert, PgBoss } from 'pg-boss'
import type { TracedJobData } from '../platform/tracing/tracing.ts'
import type pg from 'pg'
import { bossDb, run, transaction } from '../platform/db/pool.ts'
import type { Logger } from '../platform/log.ts'
import { toError } from '../platform/log.ts'
import { isConnectionLost } from '../platform/jobs/errors.ts'
import { OPERATION_STATUS } from './domain/status.ts'
import type { NewBulk, NewOperation } from './sql/bulks.ts'
import { bulkCommitted } from './commitOutcome.ts'
import { claimIdempotencyKeys, insertBulksWithOperations, recordIdempotentResponses } from './sql/groupAccept.ts'

/**
 * Group commit of small acceptances (issue 17, item 2). Under concurrency many `placeOrder` requests
 * arrive within a millisecond of each other; each alone would pay its own BEGIN, inserts and COMMIT
 * (and the COMMIT's WAL flush). Here they share one transaction: their idempotency keys, bulks,
 * operations and jobs go in as one multi-row statement each, and one COMMIT answers them all.
 *
 * There is no timer. A request that finds no group being written starts one at once with itself
 * alone, so an idle gateway answers as soon as it would without grouping; requests that arrive while a
 * group is being written wait for it and form the next group together (the gathering window is the
 * previous group's commit, bounded by `maxGroup`).
 *
 * One request cannot fail the others: a request whose idempotency key is already taken leaves the
 * group and is answered alone after it (a replay, or IDEMPOTENCY_KEY_REUSED); and if the server
 * refuses a statement of the group (a constraint), nothing of it was committed and every request of
 * it is accepted again alone, in a transaction of its own, which fails only the request at fault. A
 * connection lost during the COMMIT is settled by asking whether one of the group's bulks is there
 * (src/operations/commitOutcome.ts): committed, every request is answered; not, or not known, the
 * whole group fails, as each request would alone (accepting them again could accept them twice).
 */
export interface GroupCommitOptions {
  /** Requests written by one transaction at most (default 64). */
  readonly maxGroup?: number
}

/** A read and checked request, ready to be written: built by acceptOperations (src/operations/accept.ts). */
export interface GroupedAcceptance<R extends GroupedResponse> {
  readonly bulk: NewBulk
  readonly operations: readonly NewOperation[]
  /** pg-boss options of its jobs (fairness: src/operations/fairness.ts). */
  readonly job: Pick<JobInsert, 'group' | 'priority'>
  /** The accepting request's trace context, carried in its jobs' data (src/platform/tracing). */
  readonly trace: TracedJobData
  readonly idempotency: { readonly owner: string, readonly key: string, readonly requestHash: string } | null
  /** The answer, whose items' order numbers are filled in once written. */
  readonly response: R
  /** The same request accepted in a transaction of its own. */
  readonly alone: () => Promise<R>
}

export interface GroupedResponse {
  readonly requestItems: ReadonlyArray<{ orderNumber: string | null }>
}

interface Waiting {
  readonly acceptance: GroupedAcceptance<GroupedResponse>
  readonly resolve: (response: GroupedResponse) => void
  readonly reject: (error: unknown) => void
}

export interface GroupCommit {
  /** Writes the acceptance with whatever others are waiting; resolves once committed. */
  accept: <R extends GroupedResponse>(acceptance: GroupedAcceptance<R>) => Promise<R>
}

export function createGroupCommit (deps: { pool: pg.Pool, boss: PgBoss, log: Logger },
  options: GroupCommitOptions = {}): GroupCommit {
  const maxGroup = options.maxGroup ?? 64
  const waiting: Waiting[] = []
  let writing = false

  const next = (): void => {
    if (writing || waiting.length === 0) return
    writing = true
    const group = takeGroup(waiting, maxGroup)
    void write(deps, group, deps.log)
      .catch((error: unknown) => deps.log.error('group commit failed', { error: toError(error) }))
      .finally(() => {
        writing = false
        next()
      })
  }

  return {
    async accept<R extends GroupedResponse> (acceptance: GroupedAcceptance<R>): Promise<R> {
      return await new Promise<R>((resolve, reject) => {
        waiting.push({ acceptance, resolve: resolve as (response: GroupedResponse) => void, reject })
        next()
      })
    }
  }
}

/**
 * The next group: up to `max` waiting requests, in arrival order. A request whose idempotency key is
 * already in the group waits for the next one, where it finds the first one's answer.
 */
function takeGroup (waiting: Waiting[], max: number): Waiting[] {
  const group: Waiting[] = []
  const keys = new Set<string>()
  for (let at = 0; at < waiting.length && group.length < max;) {
    const key = waiting[at]!.acceptance.idempotency
    const id = key ? JSON.stringify([key.owner, key.key]) : null
    if (id !== null && keys.has(id)) {
      at++
      continue
    }
    if (id !== null) keys.add(id)
    group.push(...waiting.splice(at, 1))
  }
  return group
}

async function write (deps: { pool: pg.Pool, boss: PgBoss }, group: Waiting[], log: Logger): Promise<void> {
  let written: Waiting[] = []
  let alone: Waiting[] = []
  try {
    await transaction(deps.pool, async (client) => {
      const keys = group.flatMap(w => w.acceptance.idempotency ? [w.acceptance.idempotency] : [])
      const claimed = new Set(keys.length === 0
        ? []
        : (await run<{ owner: string, key: string }>(client, claimIdempotencyKeys(keys))).map(row => JSON.stringify([row.owner, row.key])))
      const isClaimed = (w: Waiting): boolean => {
        const key = w.acceptance.idempotency
        return key === null || claimed.has(JSON.stringify([key.owner, key.key]))
      }
      written = group.filter(isClaimed)
      alone = group.filter(w => !isClaimed(w))
      if (written.length === 0) return
      await insertGroup(deps.boss, client, written)
      const records = written.flatMap(({ acceptance: a }) => a.idempotency
        ? [{ ...a.idempotency, bulkUuid: a.bulk.uuid, response: a.response }]
        : [])
      if (records.length > 0) await run(client, recordIdempotentResponses(records))
    }, {
      // The group's bulks commit together: one of them tells whether the group did.
      committed: async (pool) => written.length > 0 && await bulkCommitted(written[0]!.acceptance.bulk.uuid)(pool)
    })
  } catch (error) {
    if (isConnectionLost(error)) {
      // Not committed, or not known (the probe failed too): accepting the requests again could write
      // them twice. Each fails, as it would have alone; a client with an idempotency key may send it again safely.
      for (const w of group) w.reject(error)
      return
    }
    // The server refused a statement: nothing of the group was committed, and each request is accepted again on its own.
    log.debug('a group commit failed; accepting its requests one by one', { size: group.length, error: toError(error) })
    written = []
    alone = group
  }
  for (const w of written) w.resolve(w.acceptance.response)
  await Promise.all(alone.map(async (w) => {
    try {
      w.resolve(await w.acceptance.alone())
    } catch (error) {
      w.reject(error)
    }
  }))
}

/** The group's bulks and operations in one statement, its jobs in one insert per topic. */
async function insertGroup (boss: PgBoss, client: pg.PoolClient, group: readonly Waiting[]): Promise<void> {
  const operations = group.flatMap(({ acceptance: a }) => a.operations.map(operation => ({ bulkUuid: a.bulk.uuid, operation })))
  const keys = new Map((await run<{ id: string, ordering_key: string | null }>(client,
    insertBulksWithOperations(group.map(w => w.acceptance.bulk), operations))).map(row => [row.id, row.ordering_key]))
  const jobs = new Map<string, JobInsert[]>()
  for (const { acceptance: a } of group) {
    for (const op of a.operations) {
      a.response.requestItems[op.index]!.orderNumber = keys.get(op.id) ?? null
      if (op.status !== OPERATION_STATUS.OPEN) continue
      const topic = jobs.get(op.topic) ?? []
      topic.push({ id: op.id, data: { operationId: op.id, ...a.trace }, ...a.job })
      jobs.set(op.topic, topic)
    }
  }
  for (const [topic, inserts] of jobs) await boss.insert(topic, inserts, { db: bossDb(client) })
}
