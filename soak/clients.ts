import { randomInt, randomUUID } from 'node:crypto'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'

/** What the clients did: every request the gateway accepted, and what each subscriber saw. */
export interface Accepted {
  readonly uuid: string
  readonly kind: 'placeOrder' | 'placeOrders' | 'cancelOrder' | 'adjustStock'
  readonly items: number
  /** Order numbers given at acceptance (placements). */
  readonly orderNumbers: readonly string[]
  readonly acceptedAt: number
  /** The bulk's last state a subscriber saw, and when it first saw it finished (ms since acceptance). */
  subscribed: boolean
  lastSeen?: string
  finishedAfterMs?: number
}

export interface ClientStats {
  readonly accepted: Accepted[]
  /** Requests that got no answer from any gateway within the retry budget (never a success for something not stored). */
  unanswered: number
  /** Requests answered with a GraphQL error (named by message). */
  readonly refused: Map<string, number>
}

const BULK_FIELDS = 'uuid status counts { open complete retriablyFailed notRetriablyFailed rejected canceled }'
const SKUS = Array.from({ length: 20 }, (_, i) => `DEMO-${String(i + 1).padStart(4, '0')}`)

function anOrder (i: number): Record<string, unknown> {
  const lines = randomInt(1, 4)
  return {
    customerEmail: `soak-${i}@example.com`,
    currency: 'EUR',
    items: Array.from({ length: lines }, () => ({ sku: SKUS[randomInt(SKUS.length)], quantity: randomInt(1, 4), unitPrice: `${randomInt(1, 200)}.${String(randomInt(100)).padStart(2, '0')}` })),
    shippingAddress: { name: 'Soak Tester', street: 'Load Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
  }
}

/**
 * Sends one mutation with an idempotency key to the gateways in turn until one answers (a gateway
 * being killed and restarted refuses connections meanwhile): the same key makes a repeat after a
 * lost answer return the first bulk instead of a second one.
 */
async function send (endpoints: readonly string[], token: string, query: string, variables: Record<string, unknown>, stats: ClientStats): Promise<any> {
  const idempotencyKey = randomUUID()
  const deadline = Date.now() + 60_000
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const url = endpoints[(attempt + randomInt(endpoints.length)) % endpoints.length]!
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { ...variables, idempotencyKey } }),
        signal: AbortSignal.timeout(20_000)
      })
      const body = await response.json() as { data?: any, errors?: Array<{ message: string }> }
      if (body.errors?.length) {
        const message = body.errors[0]!.message
        // A database that is restarting or a backend terminated: a clear error, and nothing was stored. Try again.
        if (response.status >= 500 || /Unexpected error/.test(message)) { await pause(attempt); continue }
        stats.refused.set(message, (stats.refused.get(message) ?? 0) + 1)
        return undefined
      }
      return body.data
    } catch {
      await pause(attempt)
    }
  }
  stats.unanswered += 1
  return undefined
}

async function pause (attempt: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)))
}

/** A graphql-ws client that reconnects to the next gateway whenever its socket is lost. */
function subscriber (endpoints: readonly string[], token: string): Client {
  let next = randomInt(endpoints.length)
  return createClient({
    url: () => endpoints[next++ % endpoints.length]!.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 1000,
    retryWait: async () => { await pause(2) },
    shouldRetry: () => true,
    lazy: true
  })
}

/** Follows a bulk to its end; a subscription cut by a gateway's death starts again elsewhere (the current state comes first). */
function follow (client: Client, accepted: Accepted, until: () => number): void {
  accepted.subscribed = true
  const start = (): void => {
    client.subscribe<{ bulkStatus: { status: string } }>({ query: `subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { ${BULK_FIELDS} } }`, variables: { uuid: accepted.uuid } }, {
      next: ({ data }) => {
        if (!data) return
        accepted.lastSeen = data.bulkStatus.status
        if (accepted.finishedAfterMs === undefined && data.bulkStatus.status.startsWith('FINISHED')) accepted.finishedAfterMs = Date.now() - accepted.acceptedAt
      },
      error: () => { if (Date.now() < until()) setTimeout(start, 500) },
      complete: () => { if (!accepted.lastSeen?.startsWith('FINISHED') && accepted.lastSeen !== 'CANCELED' && Date.now() < until()) setTimeout(start, 500) }
    })
  }
  start()
}

export interface LoadOptions {
  readonly endpoints: readonly string[]
  readonly token: string
  readonly clients: number
  /** When the clients stop sending. */
  readonly sendUntil: number
  /** When subscribers give up following (after the drain). */
  readonly followUntil: () => number
}

/** `clients` loops sending single orders, bulks, cancellations and stock adjustments until `sendUntil`. */
export async function runClients (options: LoadOptions, stats: ClientStats): Promise<Client[]> {
  const subscribers = Array.from({ length: Math.max(1, Math.ceil(options.clients / 2)) }, () => subscriber(options.endpoints, options.token))
  let sequence = 0
  const loop = async (index: number): Promise<void> => {
    while (Date.now() < options.sendUntil) {
      const roll = randomInt(100)
      const i = sequence++
      if (roll < 55) await place(options, stats, [anOrder(i)], 'placeOrder', subscribers[index % subscribers.length]!)
      else if (roll < 85) await place(options, stats, Array.from({ length: randomInt(10, 60) }, (_, k) => anOrder(i * 100 + k)), 'placeOrders', subscribers[index % subscribers.length]!)
      else if (roll < 95) await cancelSome(options, stats)
      else await adjust(options, stats)
    }
  }
  await Promise.all(Array.from({ length: options.clients }, async (_, index) => { await loop(index) }))
  return subscribers
}

async function place (options: LoadOptions, stats: ClientStats, orders: Array<Record<string, unknown>>, kind: 'placeOrder' | 'placeOrders', client: Client): Promise<void> {
  const single = kind === 'placeOrder'
  const data = await send(options.endpoints, options.token, single
    ? 'mutation ($input: PlaceOrderInput!, $idempotencyKey: String) { placeOrder(input: $input, idempotencyKey: $idempotencyKey) { bulkUuid requestItems { orderNumber } } }'
    : 'mutation ($input: [PlaceOrderInput!]!, $idempotencyKey: String) { placeOrders(input: $input, idempotencyKey: $idempotencyKey) { bulkUuid requestItems { orderNumber } } }',
  { input: single ? orders[0] : orders }, stats)
  const answer = data?.[kind]
  if (!answer) return
  const accepted: Accepted = {
    uuid: answer.bulkUuid,
    kind,
    items: orders.length,
    acceptedAt: Date.now(),
    subscribed: false,
    orderNumbers: answer.requestItems.map((item: { orderNumber: string | null }) => item.orderNumber).filter(Boolean)
  }
  stats.accepted.push(accepted)
  if (randomInt(2) === 0) follow(client, accepted, options.followUntil)
}

async function cancelSome (options: LoadOptions, stats: ClientStats): Promise<void> {
  const placed = stats.accepted.filter(a => a.kind === 'placeOrder')
  const target = placed[randomInt(Math.max(placed.length, 1))]?.orderNumbers[0]
  if (target === undefined) return
  const data = await send(options.endpoints, options.token,
    'mutation ($number: String!, $idempotencyKey: String) { cancelOrder(number: $number, idempotencyKey: $idempotencyKey) { bulkUuid } }', { number: target }, stats)
  if (data?.cancelOrder) stats.accepted.push({ uuid: data.cancelOrder.bulkUuid, kind: 'cancelOrder', items: 1, orderNumbers: [], acceptedAt: Date.now(), subscribed: false })
}

async function adjust (options: LoadOptions, stats: ClientStats): Promise<void> {
  const data = await send(options.endpoints, options.token,
    'mutation ($input: [StockAdjustmentInput!]!, $idempotencyKey: String) { adjustStock(input: $input, idempotencyKey: $idempotencyKey) { bulkUuid } }',
    { input: [{ sku: SKUS[randomInt(SKUS.length)], quantity: randomInt(1, 50) }] }, stats)
  if (data?.adjustStock) stats.accepted.push({ uuid: data.adjustStock.bulkUuid, kind: 'adjustStock', items: 1, orderNumbers: [], acceptedAt: Date.now(), subscribed: false })
}
