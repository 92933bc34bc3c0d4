import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'

// Issue 17, item 4: a subscription is executed once per distinct (document, variables, caller
// scope), and every subscriber of it is handed the same result; authorization stays per caller.

const STATUS = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { uuid status counts { open complete } } }'

let gateway: TestGateway
beforeAll(async () => {
  // No workers: operations change only when this test changes them.
  gateway = await startGateway({ roles: ['gateway'], env: { SHARED_SUBSCRIPTIONS: 'true' } })
})
afterAll(async () => { await gateway?.stop() })

interface Follower { readonly results: any[], readonly done: Promise<any[]> }

function follow (token: string, uuid: string): Follower {
  const results: any[] = []
  const done = (async () => {
    for await (const result of gateway.wsClient(token).iterate({ query: STATUS, variables: { uuid } })) results.push(result)
    return results
  })()
  return { results, done }
}

/** Waits until every follower has `n` results. */
async function allHave (followers: readonly Follower[], n: number): Promise<void> {
  await eventually(async () => followers.every(f => f.results.length >= n) ? true : undefined, 15_000, `${followers.length} subscribers to have ${n} result(s)`)
}

async function completeOne (uuid: string): Promise<void> {
  await gateway.sql.query(`UPDATE operation SET status = 'COMPLETE', started_at = clock_timestamp(), finished_at = clock_timestamp()
    WHERE id = (SELECT id FROM operation WHERE bulk_uuid = $1 AND status = 'OPEN' ORDER BY request_index LIMIT 1)`, [uuid])
}

describe('subscriptions shared by their subscribers', () => {
  it('executes once per document, variables and caller scope, hands every subscriber the same results, and still ends a revoked caller\'s', async () => {
    const first = await gateway.createToken('acme', 'INTEGRATION')
    const second = await gateway.createToken('acme', 'INTEGRATION')
    const { data } = await gateway.gql(PLACE_ORDERS, { input: [order(), order(), order()] }, first)
    const uuid = data.placeOrders.bulkUuid as string
    const before = gateway.app.subscriptionExecutions()

    // Two tokens of one owner and role are one scope; the admin is another.
    const acme = [...Array.from({ length: 10 }, () => follow(first, uuid)), ...Array.from({ length: 10 }, () => follow(second, uuid))]
    const admins = Array.from({ length: 5 }, () => follow(gateway.adminToken, uuid))
    const everyone = [...acme, ...admins]
    await allHave(everyone, 1)
    const initial = { data: { bulkStatus: { uuid, status: 'NOT_STARTED', counts: { open: 3, complete: 0 } } } }
    for (const follower of everyone) expect(follower.results).toEqual([initial])
    const started = gateway.app.subscriptionExecutions()
    expect(started.executions - before.executions).toBe(2)
    expect(started.results - before.results).toBe(2)

    // One change: one result per execution, the same for all its subscribers.
    await completeOne(uuid)
    await allHave(everyone, 2)
    for (const follower of everyone) expect(follower.results[1]).toEqual({ data: { bulkStatus: { uuid, status: 'IN_PROGRESS', counts: { open: 2, complete: 1 } } } })
    expect(gateway.app.subscriptionExecutions().results - started.results).toBe(2)

    // A subscriber who joins a running execution gets the current state first, and runs nothing new.
    const late = follow(second, uuid)
    await allHave([late], 1)
    expect(late.results[0]).toEqual(acme[0]!.results[1])
    expect(gateway.app.subscriptionExecutions().executions - before.executions).toBe(2)

    // Revoking one token ends its subscriptions alone, although they shared an execution with the other's.
    await gateway.sql.query('UPDATE api_token SET revoked_at = now() WHERE token_hash = $1', [createHash('sha256').update(first).digest('hex')])
    const revoked = await Promise.all(acme.slice(0, 10).map(async follower => await follower.done))
    for (const results of revoked) expect(results.at(-1)).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] })

    // The others go on, and complete with the bulk after its final state.
    await completeOne(uuid)
    await completeOne(uuid)
    const rest = await Promise.all([...acme.slice(10), ...admins, late].map(async follower => await follower.done))
    for (const results of rest) expect(results.at(-1)).toEqual({ data: { bulkStatus: { uuid, status: 'FINISHED_SUCCESSFULLY', counts: { open: 0, complete: 3 } } } })
    // Every execution ended with its bulk: a new subscriber starts a new one, and is given the final state.
    await eventually(async () => gateway.app.watchedBulks() === 0 ? true : undefined, 10_000, 'the feed to let the bulk go')
    const after = await follow(second, uuid).done
    expect(after).toEqual([rest[0]!.at(-1)])
    expect(gateway.app.subscriptionExecutions().executions - before.executions).toBe(3)
  })
})
