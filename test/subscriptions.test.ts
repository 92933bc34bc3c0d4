import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { killAll, spawnMain } from './helpers/processes.ts'

const BULK_STATUS = `subscription ($uuid: ID!) {
  bulkStatus(uuid: $uuid) { uuid status operationCount finishedAt counts { open complete rejected } }
}`

let gateway: TestGateway
// The gateway only: the worker runs in another process, so changes must reach us through PostgreSQL.
// BULK_CHUNK_SIZE 1: a job per operation, so that the worker below (batches of one) settles one operation at a time.
beforeAll(async () => { gateway = await startGateway({ roles: ['gateway'], env: { BULK_CHUNK_SIZE: '1' } }) })
afterAll(async () => {
  await killAll()
  await gateway.stop()
})

/** Subscribes over graphql-ws and collects every payload until the server completes the subscription. */
function subscribe (uuid: string): { events: any[], done: Promise<void>, first: Promise<void> } {
  const client = gateway.wsClient()
  const events: any[] = []
  let markFirst!: () => void
  const first = new Promise<void>(resolve => { markFirst = resolve })
  const done = (async () => {
    for await (const result of client.iterate({ query: BULK_STATUS, variables: { uuid } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors))
      events.push(result.data!.bulkStatus)
      markFirst()
    }
  })()
  return { events, done, first }
}

describe('bulkStatus over graphql-ws', () => {
  it('emits the current state, then changes made by a worker in another process, and completes when the bulk finishes', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order(), order(), order({ currency: 'nope' }), order(), order()] })
    const uuid = data.placeOrders.bulkUuid
    const subscriptions = [subscribe(uuid), subscribe(uuid), subscribe(uuid)]
    await Promise.all(subscriptions.map(async s => await s.first))
    for (const { events } of subscriptions) {
      expect(events[0]).toMatchObject({ uuid, status: 'NOT_STARTED', operationCount: 5, finishedAt: null, counts: { open: 4, complete: 0, rejected: 1 } })
    }

    const worker = spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', WORKER_BATCH_SIZE: '1', WORKER_CONCURRENCY: '1' })
    await Promise.all(subscriptions.map(async s => await s.done))
    worker.process.kill('SIGTERM')
    expect((await worker.exited).code).toBe(0)

    for (const { events } of subscriptions) {
      const last = events.at(-1)
      expect(last).toMatchObject({ status: 'FINISHED_WITH_FAILURE', counts: { open: 0, complete: 4, rejected: 1 } })
      expect(last.finishedAt).not.toBeNull()
      // More than first and last: changes arrive while the worker goes (one operation per batch here).
      expect(events.length).toBeGreaterThan(2)
      expect(events.slice(1, -1).every(event => event.status === 'IN_PROGRESS')).toBe(true)
      // Never backwards, never a repeat.
      const completes = events.map(event => event.counts.complete)
      expect(completes).toEqual([...completes].sort((a, b) => a - b))
      const keys = events.map(event => JSON.stringify(event))
      expect(new Set(keys).size).toBe(keys.length)
    }
    const bulk = await waitForBulk(gateway, uuid)
    expect(bulk.counts.complete).toBe(4)
  })

  it('emits the final state of an already finished bulk and completes at once', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order({ currency: 'nope' })] })
    const uuid = data.placeOrders.bulkUuid
    const subscription = subscribe(uuid)
    await subscription.done
    expect(subscription.events).toEqual([
      { uuid, status: 'FINISHED_WITH_FAILURE', operationCount: 1, finishedAt: expect.any(String), counts: { open: 0, complete: 0, rejected: 1 } }
    ])
  })

  it('answers an unknown bulk with a NOT_FOUND error, and a malformed uuid with a validation error', async () => {
    const unknown = subscribe('00000000-0000-4000-8000-000000000000')
    await expect(unknown.done).rejects.toThrow(/NOT_FOUND/)
    const malformed = subscribe('nope')
    await expect(malformed.done).rejects.toThrow(/UUID/)
  })

  it('stops watching a bulk as soon as its subscriber leaves', async () => {
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order()] })
    const uuid = data.placeOrders.bulkUuid
    const client = gateway.wsClient()
    const iterator = client.iterate({ query: BULK_STATUS, variables: { uuid } })[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect(first.value.data.bulkStatus.status).toBe('NOT_STARTED')
    expect(gateway.app.watchedBulks()).toBe(1)
    await iterator.return?.()
    await eventually(async () => gateway.app.watchedBulks() === 0 ? true : undefined, 5000, 'the watcher to go')
  })
})
