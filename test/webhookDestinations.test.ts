import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPrivateAddress } from '../src/operations/webhooks/destination.ts'
import { eventually, order, startGateway, type TestGateway } from './helpers/gateway.ts'
import { freePort } from './helpers/processes.ts'
import { LoopbackReceiver } from './helpers/receiver.ts'
import { answerLookups, type ScriptedResolver } from './helpers/resolver.ts'

// Issue 12, item 6: webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE unset), and what a
// caller reads of an attempt tells nothing about what listens at a private one.

const PRIVATE = 'not sent: the host is a private, loopback or link-local address (set WEBHOOK_ALLOW_PRIVATE to allow)'
/** An attempt that was sent (whatever came of it: no route from here, no answer, or a proxy's). */
const SENT = { delivered: false, error: expect.not.stringMatching(/^not sent/) }

const PLACE = `mutation ($input: [PlaceOrderInput!]!, $notifyUrl: String) {
  placeOrders(input: $input, notifyUrl: $notifyUrl) { bulkUuid }
}`

const ATTEMPTS = `query ($uuid: ID!) {
  bulk(uuid: $uuid) { notifications { state attempts { attempt httpStatus error delivered durationMs } } }
}`

/** Documentation addresses (RFC 3849, RFC 5737): public as far as the check goes, and nobody listens there. */
const PUBLIC_V6 = '2001:db8::5'
const PUBLIC_V4 = '203.0.113.7'

const receiver = new LoopbackReceiver(() => ({ status: 200, body: 'thanks' }))
let gateway: TestGateway
let resolver: ScriptedResolver

beforeAll(async () => {
  await receiver.start()
  resolver = answerLookups({
    // Public on the first lookup, loopback on the next, and so on: a rebinding DNS server.
    'rebind.webhook.test': [PUBLIC_V6, '127.0.0.1'],
    'mapped.webhook.test': ['::ffff:127.0.0.1'],
    'public4.webhook.test': [PUBLIC_V4]
  })
  gateway = await startGateway({ env: { WEBHOOK_RETRY_LIMIT: '2', WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '2000' } })
})

afterAll(async () => {
  await gateway?.stop()
  resolver?.restore()
  await receiver.stop()
})

/** A bulk of one rejected order (it finishes at acceptance) asking to be notified at `url`. */
async function notifying (url: string): Promise<string> {
  const { data, errors } = await gateway.gql(PLACE, { input: [order({ currency: 'nope' })], notifyUrl: url })
  if (errors) throw new Error(JSON.stringify(errors))
  return data.placeOrders.bulkUuid
}

async function attemptsOf (uuid: string, settled: boolean): Promise<any[]> {
  return await eventually(async () => {
    const { data } = await gateway.gql(ATTEMPTS, { uuid })
    const notification = data?.bulk?.notifications[0]
    if (notification === undefined) return undefined
    if (settled ? notification.state === 'PENDING' : notification.attempts.length === 0) return undefined
    return notification.attempts
  }, 40_000, `the webhook of bulk ${uuid} to be ${settled ? 'given up on' : 'tried'}`)
}

describe('webhook destinations', () => {
  it('connects to the address it checked: a name answering public, then loopback, never reaches the loopback listener', async () => {
    const port = new URL(receiver.url('/')).port
    const uuid = await notifying(`http://rebind.webhook.test:${port}/rebind`)
    const attempts = await attemptsOf(uuid, true)

    expect(receiver.to('/rebind')).toEqual([])
    // One lookup per attempt, checked and connected to alike: the loopback answers were refused.
    expect(attempts).toHaveLength(3)
    expect(resolver.lookups('rebind.webhook.test')).toBe(3)
    expect(attempts[1]).toEqual({ attempt: 2, httpStatus: null, error: PRIVATE, delivered: false, durationMs: 0 })
    expect(attempts[0]).toMatchObject(SENT)
    expect(attempts[2]).toMatchObject(SENT)
  })

  it('refuses loopback dressed as IPv6: IPv4-mapped and NAT64 addresses, literal or resolved', async () => {
    const port = new URL(receiver.url('/')).port
    const urls = [
      `http://[::ffff:127.0.0.1]:${port}/mapped`,
      `http://[64:ff9b::7f00:1]:${port}/nat64`,
      `http://mapped.webhook.test:${port}/mapped-name`
    ]
    const uuids = await Promise.all(urls.map(notifying))
    for (const uuid of uuids) {
      const attempts = await attemptsOf(uuid, true)
      expect(attempts).toEqual([1, 2, 3].map(attempt => ({ attempt, httpStatus: null, error: PRIVATE, delivered: false, durationMs: 0 })))
    }
    expect(receiver.received).toEqual([])
  })

  it('answers the same for a private address whatever listens there: no port scanning through attempts', async () => {
    const listening = receiver.url('/scan')
    const closed = `http://127.0.0.1:${await freePort()}/scan`
    const named = listening.replace('127.0.0.1', 'localhost')
    const seen = await Promise.all([listening, closed, named].map(async (url) => await attemptsOf(await notifying(url), true)))
    expect(seen[0]).toEqual([1, 2, 3].map(attempt => ({ attempt, httpStatus: null, error: PRIVATE, delivered: false, durationMs: 0 })))
    expect(seen[1]).toEqual(seen[0])
    expect(seen[2]).toEqual(seen[0])
    expect(receiver.received).toEqual([])
  })

  it('sends to public IPv4 addresses, literal or resolved', async () => {
    for (const url of [`http://${PUBLIC_V4}:9/hook`, 'http://public4.webhook.test:9/hook']) {
      const [first] = await attemptsOf(await notifying(url), false)
      expect(first).toMatchObject(SENT)
    }
    expect(resolver.lookups('public4.webhook.test')).toBeGreaterThanOrEqual(1)
  })
})

describe('the address check', () => {
  it('refuses private, loopback, link-local and translated addresses, and lets public ones through', () => {
    const refused = [
      '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      '::', '::1', '::127.0.0.1', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b:1::a00:1',
      '2002:7f00:1::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', 'not-an-address'
    ]
    const allowed = ['8.8.8.8', '1.1.1.1', '93.184.215.14', PUBLIC_V4, '2606:4700:4700::1111', '2a00:1450:4001::200e', PUBLIC_V6]
    expect(refused.filter(address => !isPrivateAddress(address))).toEqual([])
    expect(allowed.filter(address => isPrivateAddress(address))).toEqual([])
  })
})
