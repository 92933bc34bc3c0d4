import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { isRunning, killAll, spawnMain, type Child } from './helpers/processes.ts'
import { LoopbackReceiver } from './helpers/receiver.ts'

/**
 * Issue 15, part 3: a bulk (or a single order) may carry notAfter; operations not begun by then end
 * EXPIRED and are never run. The gateway runs here without workers; a worker runs as a process of its
 * own, and is stopped while the deadlines pass, as after an outage.
 */
const ENV = { WEBHOOK_SECRET: 'test-webhook-secret-deadlines', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_DELAY_SECONDS: '1' }

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notAfter: DateTime, $notifyUrl: String) {
  placeOrders(input: $input, notAfter: $notAfter, notifyUrl: $notifyUrl) { bulkUuid requestItems { orderNumber } } }`
const PLACE_ONE = `mutation ($input: PlaceOrderInput!, $notAfter: DateTime) {
  placeOrder(input: $input, notAfter: $notAfter) { bulkUuid } }`
const CANCEL = 'mutation ($number: String!, $notAfter: DateTime) { cancelOrder(number: $number, notAfter: $notAfter) { bulkUuid } }'
const STATE = `query ($uuid: ID!) { bulk(uuid: $uuid) {
  status notAfter progress resultsUrl counts { open complete expired }
  operations(first: 10) { edges { node { status errorCode resultMessage attempts } } } } }`

const receiver = new LoopbackReceiver(() => ({ status: 200, body: 'thanks' }))
let gateway: TestGateway
beforeAll(async () => {
  await receiver.start()
  gateway = await startGateway({ roles: ['gateway'], env: ENV })
})
afterAll(async () => {
  await killAll()
  await gateway.stop()
  await receiver.stop()
})

function startWorker (): Child {
  return spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, LOG_LEVEL: 'warn', ...ENV })
}

async function stopWorker (worker: Child): Promise<void> {
  worker.process.kill('SIGTERM')
  expect((await worker.exited).code).toBe(0)
}

async function state (uuid: string): Promise<any> {
  const { data, errors } = await gateway.gql(STATE, { uuid })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.bulk
}

async function place (variables: Record<string, unknown>): Promise<{ uuid: string, numbers: string[] }> {
  const { data, errors } = await gateway.gql(PLACE, variables)
  if (errors) throw new Error(JSON.stringify(errors))
  return { uuid: data.placeOrders.bulkUuid, numbers: data.placeOrders.requestItems.map((item: any) => item.orderNumber) }
}

describe('notAfter', () => {
  it('ends EXPIRED, unrun, the operations a stopped worker did not begin by the deadline; in counts, the webhook and the results file', async () => {
    // A worker that runs, then stops: nothing is processed while the deadlines pass.
    const first = startWorker()
    const warmUp = await place({ input: [order()] })
    await waitForBulk(gateway, warmUp.uuid, ['FINISHED_SUCCESSFULLY'], 60_000)
    await stopWorker(first)

    const deadline = new Date(Date.now() + 2000)
    const late = await place({ input: [order(), order(), order()], notAfter: deadline.toISOString(), notifyUrl: receiver.url('/late') })
    const single = (await gateway.gql(PLACE_ONE, { input: order(), notAfter: deadline.toISOString() })).data.placeOrder.bulkUuid
    const cancel = (await gateway.gql(CANCEL, { number: warmUp.numbers[0], notAfter: deadline.toISOString() })).data.cancelOrder.bulkUuid
    const relaxed = await place({ input: [order()], notAfter: new Date(Date.now() + 3600_000).toISOString() })
    const unbounded = await place({ input: [order()] })
    expect((await state(late.uuid)).notAfter).toBe(deadline.toISOString())
    expect((await state(unbounded.uuid)).notAfter).toBeNull()

    await new Promise(resolve => setTimeout(resolve, deadline.getTime() - Date.now() + 500))
    const second = startWorker()
    for (const uuid of [late.uuid, single, cancel]) {
      const bulk = await waitForBulk(gateway, uuid, ['FINISHED_WITH_FAILURE'], 60_000)
      expect(bulk.operations.edges.map((edge: any) => edge.node)).toEqual(bulk.operations.edges.map(() => expect.objectContaining({
        status: 'EXPIRED', errorCode: 'DEADLINE_PASSED', resultMessage: `not begun by its deadline, notAfter ${deadline.toISOString()}`, attempts: 0
      })))
    }
    for (const uuid of [relaxed.uuid, unbounded.uuid]) await waitForBulk(gateway, uuid, ['FINISHED_SUCCESSFULLY'], 60_000)
    expect(isRunning(second)).toBe(true)

    const bulk = await state(late.uuid)
    expect(bulk).toMatchObject({ status: 'FINISHED_WITH_FAILURE', progress: 1, counts: { open: 0, complete: 0, expired: 3 } })
    // Never run: no order for the expired placements, and the order the expired cancellation named is not canceled.
    const orders = await Promise.all([...late.numbers, warmUp.numbers[0]].map(async (number) =>
      (await gateway.gql('query ($n: String!) { order(number: $n) { status } }', { n: number })).data.order?.status ?? null))
    expect(orders.slice(0, 3)).toEqual([null, null, null])
    expect(orders[3]).not.toBe('CANCELED')

    const file = await fetch(bulk.resultsUrl.replace('//localhost:', '//127.0.0.1:'), { headers: { authorization: `Bearer ${gateway.adminToken}` } })
    const lines = (await file.text()).trim().split('\n').map(line => JSON.parse(line))
    expect(lines.map(line => [line.index, line.status, line.errorCode])).toEqual([0, 1, 2].map(i => [i, 'EXPIRED', 'DEADLINE_PASSED']))

    const webhook = await eventually(async () => receiver.to('/late')[0], 60_000, 'the webhook')
    expect(JSON.parse(webhook.body)).toMatchObject({ status: 'FINISHED_WITH_FAILURE', counts: { open: 0, complete: 0, expired: 3 } })
  }, 180_000)

  it('refuses a deadline already past, writing nothing', async () => {
    const before = (await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n
    const { data, errors } = await gateway.gql(PLACE_ORDERS.replace('$description: String)', '$description: String, $notAfter: DateTime)')
      .replace('description: $description)', 'description: $description, notAfter: $notAfter)'), { input: [order()], notAfter: new Date(Date.now() - 1000).toISOString() })
    expect(data).toBeNull()
    expect(errors?.[0]?.message).toMatch(/notAfter.*must be in the future/)
    expect((await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')).rows[0].n).toBe(before)
  })
})
