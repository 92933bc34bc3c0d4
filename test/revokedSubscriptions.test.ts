import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 12, item 10: revoking a token ends the subscriptions it opened, whichever process revokes it.

const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { requestItems { orderNumber } } }'
const PROGRESS = 'subscription ($number: String!) { orderProgress(number: $number) { number status customerEmail } }'

let gateway: TestGateway
beforeAll(async () => {
  // No workers: an accepted order is never placed, so its orderProgress never completes by itself.
  gateway = await startGateway({ roles: ['gateway'] })
})
afterAll(async () => { await gateway?.stop() })

/** Follows an order over graphql-ws; `done` settles with every result received when the subscription ends. */
function follow (token: string, number: string): { results: any[], done: Promise<any[]> } {
  const results: any[] = []
  const done = (async () => {
    for await (const result of gateway.wsClient(token).iterate({ query: PROGRESS, variables: { number } })) results.push(result)
    return results
  })()
  return { results, done }
}

async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('a revoked token', () => {
  it('ends its running orderProgress subscription with UNAUTHENTICATED when another process revokes it, and no one else\'s', async () => {
    const token = await gateway.createToken('shop')
    const place = async (as: string): Promise<string> => {
      const { data, errors } = await gateway.gql(PLACE_ORDER, { input: order() }, as)
      expect(errors).toBeUndefined()
      return data.placeOrder.requestItems[0].orderNumber as string
    }
    const revoked = follow(token, await place(token))
    const other = follow(gateway.adminToken, await place(gateway.adminToken))
    let otherEnded = false
    void other.done.finally(() => { otherEnded = true })
    // Both have subscribed: the feed watches both orders.
    await eventually(async () => gateway.app.watchedOrders() === 2 ? true : undefined, 10_000, 'the subscriptions to start')
    expect(revoked.results).toEqual([])

    await gateway.sql.query("UPDATE api_token SET revoked_at = now() WHERE owner = 'shop'")
    const results = await within(revoked.done, 10_000, 'the revoked subscription to end')
    expect(results).toEqual([{
      errors: [{ message: 'the credentials were revoked: this subscription has ended', extensions: { code: 'UNAUTHENTICATED' } }]
    }])
    // Its order is no longer watched; the admin's subscription goes on.
    await eventually(async () => gateway.app.watchedOrders() === 1 ? true : undefined, 10_000, 'the feed to let the order go')
    expect(otherEnded).toBe(false)
    // And the revoked token can start nothing new.
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })
})
