import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, type GraphQLResponse, type TestGateway } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, spawnMain } from './helpers/processes.ts'
import { LoopbackReceiver, standardVerified, type Answer, type Received } from './helpers/receiver.ts'

// Issue 12, item 13: each owner signs with a secret of its own, rotatable, as Standard Webhooks
// specifies. Issue 16: webhooks work with no setting at all.

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String) {
  placeOrders(input: $input, notifyUrl: $notifyUrl) { bulkUuid }
}`
const ROTATE = `mutation ($hours: Int) {
  rotateWebhookSecret(previousValidHours: $hours) { secret owner createdAt previousSecretValidUntil }
}`
const NOTIFICATIONS = `query ($uuid: ID!) {
  bulk(uuid: $uuid) { notifications { id state attempts { httpStatus error delivered } } }
}`

/** `/redirect/…` answers 302 to `/target`, anything else 200. */
const receiver: LoopbackReceiver = new LoopbackReceiver(({ path }): Answer => path.startsWith('/redirect/')
  ? { status: 302, headers: { location: receiver.url('/target') } }
  : { status: 200, body: 'thanks' })
let gateway: TestGateway

beforeAll(async () => {
  await receiver.start()
  // No WEBHOOK_SECRET: the owners' own secrets are all there is. Receivers listen on loopback.
  gateway = await startGateway({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_LIMIT: '1', WEBHOOK_RETRY_DELAY_SECONDS: '1' } })
})

afterAll(async () => {
  await killAll()
  await gateway?.stop()
  await receiver.stop()
})

async function gql (query: string, variables: Record<string, unknown>, token: string): Promise<any> {
  const { data, errors } = await gateway.gql(query, variables, token)
  if (errors) throw new Error(JSON.stringify(errors))
  return data
}

async function rotate (token: string, hours?: number): Promise<{ secret: string, owner: string, previousSecretValidUntil: string | null }> {
  return (await gql(ROTATE, hours === undefined ? {} : { hours }, token)).rotateWebhookSecret
}

/** Places a bulk of one order for `token`'s owner, notified at `path`; resolves with the delivery once it has arrived. */
async function delivered (token: string, path: string): Promise<Received> {
  await gql(PLACE, { input: [order()], notifyUrl: receiver.url(path) }, token)
  return await eventually(async () => receiver.to(path)[0], 40_000, `a webhook to ${path}`)
}

describe('webhook signing secrets', () => {
  it("signs each owner's webhooks with that owner's own secret, as the standardwebhooks library verifies them", async () => {
    const [shopA, shopB] = [await gateway.createToken('shop-a'), await gateway.createToken('shop-b')]
    const secretA = (await rotate(shopA, 0)).secret
    const secretB = (await rotate(shopB, 0)).secret
    expect(secretA).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(secretB).not.toBe(secretA)

    const [toA, toB] = await Promise.all([delivered(shopA, '/a'), delivered(shopB, '/b')])
    const payloadA = standardVerified(secretA, toA.headers, toA.body) as any
    expect(payloadA).toEqual(JSON.parse(toA.body))
    expect(payloadA.event).toBe('bulk.finished')
    expect(standardVerified(secretB, toB.headers, toB.body)).toEqual(JSON.parse(toB.body))
    // Another owner's secret proves nothing: a receiver knows whose webhook it is.
    expect(standardVerified(secretB, toA.headers, toA.body)).toBeNull()
    expect(standardVerified(secretA, toB.headers, toB.body)).toBeNull()
    // A body changed on the way fails too.
    expect(standardVerified(secretA, toA.headers, toA.body.replace('bulk.finished', 'bulk.finisheD'))).toBeNull()

    const { bulk } = await gql(NOTIFICATIONS, { uuid: payloadA.uuid }, shopA)
    expect(toA.headers['webhook-id']).toBe(bulk.notifications[0].id)
    expect(Math.abs(Number(toA.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300)
    // Without WEBHOOK_SECRET the older scheme's headers are not sent.
    expect(toA.headers['x-signature-256']).toBeUndefined()
    expect(toA.headers['x-webhook-timestamp']).toBeUndefined()
  })

  it('keeps the replaced secret signing alongside the new one for the grace period, and drops it at once when told', async () => {
    const token = await gateway.createToken('shop-c')
    const first = await rotate(token, 0)
    expect(first.previousSecretValidUntil).toBeNull()
    const second = await rotate(token)
    // 24 hours by default.
    expect(Date.parse(second.previousSecretValidUntil!) - Date.now()).toBeGreaterThan(23 * 3600_000)
    expect(Date.parse(second.previousSecretValidUntil!) - Date.now()).toBeLessThanOrEqual(24 * 3600_000)

    const during = await delivered(token, '/c/during')
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(standardVerified(first.secret, during.headers, during.body)).not.toBeNull()
    expect(standardVerified(second.secret, during.headers, during.body)).not.toBeNull()

    const third = await rotate(token, 0)
    expect(third.previousSecretValidUntil).toBeNull()
    const after = await delivered(token, '/c/after')
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(standardVerified(third.secret, after.headers, after.body)).not.toBeNull()
    expect(standardVerified(second.secret, after.headers, after.body)).toBeNull()
    expect(standardVerified(first.secret, after.headers, after.body)).toBeNull()
  })

  it('refuses a grace period out of range and changes nothing', async () => {
    const token = await gateway.createToken('shop-d')
    const { secret } = await rotate(token, 0)
    for (const hours of [-1, 169]) {
      const { data, errors }: GraphQLResponse = await gateway.gql(ROTATE, { hours }, token)
      expect(data).toBeNull()
      expect(errors?.[0]?.message).toMatch(/previousValidHours/)
    }
    const { errors } = await gateway.gql(ROTATE, {}, null)
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    const after = await delivered(token, '/d')
    expect(standardVerified(secret, after.headers, after.body)).not.toBeNull()
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
  })

  it('does not follow a redirect', async () => {
    const token = await gateway.createToken('shop-e')
    const { placeOrders } = await gql(PLACE, { input: [order()], notifyUrl: receiver.url('/redirect/1') }, token)
    const notification = await eventually(async () => {
      const { bulk } = await gql(NOTIFICATIONS, { uuid: placeOrders.bulkUuid }, token)
      return bulk.notifications[0]?.state === 'FAILED' ? bulk.notifications[0] : undefined
    }, 40_000, 'the webhook to fail')
    expect(notification.attempts).toEqual(Array(2).fill({ httpStatus: 302, error: 'HTTP 302 (redirects are not followed)', delivered: false }))
    expect(receiver.to('/redirect/1')).toHaveLength(2)
    expect(receiver.to('/target')).toEqual([])
  })
})

describe('webhooks out of the box', () => {
  it('delivers, signed, on the embedded default with no setting, as a new user tries it', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'webhooks-embedded-'))
    // As a project folder would be: the embedded PostgreSQL runs as `postgres` when the tests run as root.
    chmodSync(dataDir, 0o755)
    try {
      const port = await freePort()
      // `npm start` with nothing set but a free port and loopback receivers allowed (the tests' receiver listens there).
      const child = spawnMain([], {
        DATA_DIR: dataDir, DATABASE_URL: '', ADMIN_TOKEN: '', WEBHOOK_SECRET: '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', WEBHOOK_ALLOW_PRIVATE: 'true'
      })
      const token = await eventually(async () => {
        if (!isRunning(child)) throw new Error(`the gateway exited: ${child.stderr()}`)
        return /\n\s+(oog_[A-Za-z0-9_-]{43})\n/.exec(child.stderr())?.[1]
      }, 120_000, 'the first start to print its admin token')
      const call = async (query: string, variables: Record<string, unknown>): Promise<any> => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables })
        })
        const { data, errors } = await response.json() as GraphQLResponse
        if (errors) throw new Error(JSON.stringify(errors))
        return data
      }
      await eventually(async () => (await call('{ __typename }', {})).__typename, 30_000, 'GraphQL to answer')

      const { placeOrders } = await call(PLACE, { input: [order()], notifyUrl: receiver.url('/embedded/first') })
      const first = await eventually(async () => receiver.to('/embedded/first')[0], 60_000, 'the first webhook')
      expect(first.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
      // The attempt is recorded once the receiver has answered: wait for it.
      const notifications = await eventually(async () => {
        const { bulk } = await call(NOTIFICATIONS, { uuid: placeOrders.bulkUuid })
        return bulk.notifications[0]?.state === 'PENDING' ? undefined : bulk.notifications
      }, 30_000, 'the first webhook to be recorded')
      expect(notifications).toEqual([{ id: first.headers['webhook-id'], state: 'DELIVERED', attempts: [{ httpStatus: 200, error: null, delivered: true }] }])

      // The user learns a secret by rotating, and verifies from then on.
      const { rotateWebhookSecret } = await call(ROTATE, { hours: 0 })
      expect(rotateWebhookSecret.owner).toBe('admin')
      await call(PLACE, { input: [order()], notifyUrl: receiver.url('/embedded/second') })
      const second = await eventually(async () => receiver.to('/embedded/second')[0], 60_000, 'the second webhook')
      expect(standardVerified(rotateWebhookSecret.secret, second.headers, second.body)).toEqual(JSON.parse(second.body))
      expect(child.stderr()).not.toMatch(/WEBHOOK_SECRET/)

      child.process.kill('SIGTERM')
      expect((await child.exited).code).toBe(0)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 240_000)
})
