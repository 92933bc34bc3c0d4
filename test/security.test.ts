import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BULK, eventually, order, PLACE_ORDER, PLACE_ORDERS, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { killAll, lines, spawnNode } from './helpers/processes.ts'

let gateway: TestGateway
let alice: string
let bob: string
let aliceBulk: string
let aliceOperation: string
beforeAll(async () => {
  gateway = await startGateway()
  alice = await gateway.createToken('alice', 'INTEGRATION')
  bob = await gateway.createToken('bob', 'CUSTOMER')
  const { data } = await gateway.gql(PLACE_ORDERS, { input: [order(), order()], description: "alice's" }, alice)
  aliceBulk = data.placeOrders.bulkUuid
  const bulk = await waitForBulk(gateway, aliceBulk)
  aliceOperation = bulk.operations.edges[0].node.id
})
afterAll(async () => {
  await killAll()
  await gateway.stop()
})

async function written (): Promise<string> {
  const { rows: [row] } = await gateway.sql.query(`SELECT (SELECT count(*) FROM bulk) AS bulks, (SELECT count(*) FROM operation) AS operations,
    (SELECT count(*) FROM pgboss.job WHERE name IN ('order.place', 'order.cancel', 'inventory.adjust')) AS jobs, (SELECT count(*) FROM api_token) AS tokens,
    (SELECT string_agg(coalesce(acknowledged_at::text, '-'), ',' ORDER BY uuid) FROM bulk) AS acks`)
  return JSON.stringify(row)
}

function results (uuid: string, token: string | null): Promise<Response> {
  return fetch(gateway.httpUrl.replace(/\/graphql$/, `/bulks/${uuid}/results.jsonl`), token === null ? {} : { headers: { authorization: `Bearer ${token}` } })
}

describe('every caller sees only its own work', () => {
  it('lets the owner and admins read a bulk, its operations and its results, and nobody else', async () => {
    expect((await gateway.gql(BULK, { uuid: aliceBulk }, alice)).data.bulk.description).toBe("alice's")
    expect((await gateway.gql(BULK, { uuid: aliceBulk })).data.bulk.uuid).toBe(aliceBulk) // admin
    const asBob = await gateway.gql(BULK, { uuid: aliceBulk }, bob)
    expect(asBob.errors).toBeUndefined()
    expect(asBob.data.bulk).toBeNull() // exactly as for a bulk that does not exist

    const OPERATION = 'query ($id: ID!) { operation(id: $id) { id bulk { uuid } } }'
    expect((await gateway.gql(OPERATION, { id: aliceOperation }, alice)).data.operation.bulk.uuid).toBe(aliceBulk)
    expect((await gateway.gql(OPERATION, { id: aliceOperation }, bob)).data.operation).toBeNull()

    const LIST = '{ bulks(first: 100) { edges { node { uuid } } } }'
    const listed = async (token: string): Promise<string[]> => (await gateway.gql(LIST, {}, token)).data.bulks.edges.map((e: any) => e.node.uuid)
    expect(await listed(alice)).toContain(aliceBulk)
    expect(await listed(bob)).not.toContain(aliceBulk)
    expect(await listed(gateway.adminToken)).toContain(aliceBulk)

    expect((await results(aliceBulk, alice)).status).toBe(200)
    expect((await results(aliceBulk, gateway.adminToken)).status).toBe(200)
    const forBob = await results(aliceBulk, bob)
    expect(forBob.status).toBe(404)
    const forNobody = await results('00000000-0000-4000-8000-000000000000', bob)
    expect((await forBob.json()).error.code).toBe((await forNobody.json()).error.code)
    expect((await results(aliceBulk, null)).status).toBe(401)
  })

  it("refuses another owner's retry, cancel and acknowledge as not found, changing nothing", async () => {
    const before = await written()
    const operations = (await gateway.gql(BULK, { uuid: aliceBulk })).data.bulk.operations
    for (const mutation of [
      'mutation ($uuid: ID!) { retryBulk(uuid: $uuid) { uuid } }',
      'mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { uuid } }',
      'mutation ($uuid: ID!) { acknowledgeBulk(uuid: $uuid) { uuid } }'
    ]) {
      const { data, errors } = await gateway.gql(mutation, { uuid: aliceBulk }, bob)
      expect(data).toBeNull()
      expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    }
    expect(await written()).toBe(before)
    expect((await gateway.gql(BULK, { uuid: aliceBulk })).data.bulk.operations).toEqual(operations)
    // The owner may.
    const acked = await gateway.gql('mutation ($uuid: ID!) { acknowledgeBulk(uuid: $uuid) { acknowledged } }', { uuid: aliceBulk }, alice)
    expect(acked.data.acknowledgeBulk.acknowledged).toBe(true)
  })

  it('does not let another owner subscribe to a bulk, and lets the owner', async () => {
    const query = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { uuid status } }'
    const collect = async (token: string): Promise<any[]> => {
      const out: any[] = []
      for await (const result of gateway.wsClient(token).iterate({ query, variables: { uuid: aliceBulk } })) {
        if (result.errors) throw new Error(JSON.stringify(result.errors))
        out.push(result.data?.bulkStatus)
      }
      return out
    }
    expect(await collect(alice)).toEqual([{ uuid: aliceBulk, status: 'FINISHED_SUCCESSFULLY' }])
    await expect(collect(bob)).rejects.toThrow(/NOT_FOUND/)
  })

  it('scopes idempotency keys to their owner', async () => {
    const PLACE = 'mutation ($input: PlaceOrderInput!, $key: String) { placeOrder(input: $input, idempotencyKey: $key) { bulkUuid } }'
    const a = await gateway.gql(PLACE, { input: order(), key: 'shared-key' }, alice)
    const b = await gateway.gql(PLACE, { input: order({ customerEmail: 'other@example.com' }), key: 'shared-key' }, bob)
    expect(b.errors).toBeUndefined()
    expect(b.data.placeOrder.bulkUuid).not.toBe(a.data.placeOrder.bulkUuid)
  })
})

describe('credentials', () => {
  it('answers requests without valid credentials with UNAUTHENTICATED and writes nothing', async () => {
    const before = await written()
    for (const authorization of [null, 'Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer not-a-token-at-all', `Bearer ${alice}x`, alice]) {
      const response = await fetch(gateway.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
        body: JSON.stringify({ query: PLACE_ORDER, variables: { input: order() } })
      })
      const body = await response.json() as any
      expect(body.data ?? null).toBeNull()
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED')
      expect(response.status).toBe(401)
    }
    expect(await written()).toBe(before)
  })

  it('refuses a revoked token at once', async () => {
    const carol = await gateway.createToken('carol')
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, carol)).errors).toBeUndefined()
    const { data: tokens } = await gateway.gql('{ apiTokens { id owner revokedAt } }')
    const id = tokens.apiTokens.find((t: any) => t.owner === 'carol').id
    const revoked = await gateway.gql('mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id })
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
    const before = await written()
    const refused = await gateway.gql(PLACE_ORDER, { input: order() }, carol)
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    expect(await written()).toBe(before)
  })

  it('refuses a token revoked by another process (another gateway, psql) as soon as its notification arrives', async () => {
    const frank = await gateway.createToken('frank')
    // Known, and so kept in this gateway's token cache.
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, frank)).errors).toBeUndefined()
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, frank)).errors).toBeUndefined()
    await gateway.sql.query("UPDATE api_token SET revoked_at = now() WHERE owner = 'frank'")
    // Well within the cache's 30 s: the NOTIFY of migration 0015 empties it.
    const refused = await eventually(async () => {
      const { errors } = await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, frank)
      return errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? errors[0] : undefined
    }, 5000, 'the revoked token to be refused')
    expect(refused.message).toBeTruthy()
  })

  it('ends an open WebSocket whose token was revoked, at its next operation', async () => {
    const erin = await gateway.createToken('erin')
    const client = gateway.wsClient(erin)
    const ask = async (): Promise<any> => {
      for await (const result of client.iterate({ query: '{ bulks(first: 1) { edges { cursor } } }' })) return result
    }
    expect((await ask()).errors).toBeUndefined()
    const { data: tokens } = await gateway.gql('{ apiTokens { id owner } }')
    await gateway.gql('mutation ($id: ID!) { revokeApiToken(id: $id) { id } }', { id: tokens.apiTokens.find((t: any) => t.owner === 'erin').id })
    const before = await written()
    const after = await ask().then((result) => result, (error: { code?: number }) => ({ closed: error.code }))
    expect(after.closed ?? after.errors?.[0]?.extensions?.code).toBeOneOf([4403, 'UNAUTHENTICATED'])
    expect(await written()).toBe(before)
  })

  it('lets only admins manage tokens', async () => {
    const before = await written()
    for (const token of [alice, bob]) {
      const created = await gateway.gql('mutation { createApiToken(owner: "mallory", role: ADMIN) { token } }', {}, token)
      expect(created.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
      expect((await gateway.gql('{ apiTokens { id } }', {}, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    }
    expect(await written()).toBe(before)
    const made = await gateway.gql('mutation { createApiToken(owner: "dave", role: CUSTOMER) { token id apiToken { owner role } } }')
    expect(made.data.createApiToken).toMatchObject({ token: expect.stringMatching(/^oog_/), apiToken: { owner: 'dave', role: 'CUSTOMER' } })
    const { rows } = await gateway.sql.query('SELECT token_hash FROM api_token WHERE id = $1', [made.data.createApiToken.id])
    expect(rows[0].token_hash).not.toContain(made.data.createApiToken.token) // only a hash is stored
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('closes a WebSocket without credentials with 4401 and with bad ones with 4403, before any subscription', async () => {
    const closeCode = async (token: string | null): Promise<number> => {
      try {
        for await (const _ of gateway.wsClient(token).iterate({ query: 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { uuid } }', variables: { uuid: aliceBulk } })) {
          return 0
        }
        return 0
      } catch (error) {
        return (error as { code?: number }).code ?? -1
      }
    }
    expect(await closeCode(null)).toBe(4401)
    expect(await closeCode('oog_forged')).toBe(4403)
  })
})

describe('npm run token', () => {
  it('creates a token printed alone on stdout, lists it, and revokes it', async () => {
    const env = { DATABASE_URL: gateway.db.url, LOG_LEVEL: 'warn' }
    const create = spawnNode(['src/cli/token.ts', 'create', '--owner', 'acme', '--role', 'integration'], env)
    expect((await create.exited).code).toBe(0)
    const token = create.stdout().trim()
    expect(lines(create.stdout())).toHaveLength(1)
    expect(token).toMatch(/^oog_[A-Za-z0-9_-]{43}$/)
    expect((await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, token)).errors).toBeUndefined()

    const list = spawnNode(['src/cli/token.ts', 'list'], env)
    expect((await list.exited).code).toBe(0)
    const row = lines(list.stdout()).map(line => line.split('\t')).find(fields => fields[1] === 'acme')!
    expect(row[2]).toBe('integration')
    expect(row[5]).toBe('active')

    const revoke = spawnNode(['src/cli/token.ts', 'revoke', row[0]!], env)
    expect((await revoke.exited).code).toBe(0)
    // The gateway hears of it by NOTIFY (its token cache), a moment after the CLI's commit.
    await eventually(async () => {
      const { errors } = await gateway.gql('{ bulks(first: 1) { edges { cursor } } }', {}, token)
      return errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? true : undefined
    }, 5000, 'the revoked token to be refused')

    const bad = spawnNode(['src/cli/token.ts', 'create', '--owner', 'acme', '--role', 'root'], env)
    expect((await bad.exited).code).toBe(2)
    expect(bad.stdout()).toBe('')
    expect(bad.stderr()).toContain('--role must be one of')
  })
})

describe('hostile text', () => {
  it('stores injection strings verbatim and lets them do nothing', async () => {
    // eslint-disable-next-line no-template-curly-in-string -- a log4j-style lookup, sent as text
    const nasty = ["Robert'); DROP TABLE orders; --", '<script>alert(1)</script>', '${jndi:ldap://127.0.0.1/x}', "' OR '1'='1", '\\u0000\\\\x00 ☃ \u202e']
    const input = nasty.map(text => order({
      items: [{ sku: text, quantity: 1, unitPrice: '1.00' }],
      shippingAddress: { name: text, street: text, city: text, postcode: text, country: 'DE' }
    }))
    // The SKUs are stocked first (as the admin), so the orders can be placed: the strings pass through the inventory too.
    const stocked = await gateway.gql('mutation ($input: [StockAdjustmentInput!]!) { adjustStock(input: $input) { bulkUuid errors } }',
      { input: nasty.map(sku => ({ sku, quantity: 10 })) })
    expect(stocked.errors).toBeUndefined()
    expect((await waitForBulk(gateway, stocked.data.adjustStock.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input, description: nasty[0] }, alice)
    expect(errors).toBeUndefined()
    const bulk = await waitForBulk(gateway, data.placeOrders.bulkUuid)
    expect(bulk.status).toBe('FINISHED_SUCCESSFULLY')
    expect(bulk.description).toBe(nasty[0])
    const { rows } = await gateway.sql.query(`SELECT o.items->0->>'sku' AS sku, o.shipping_address->>'street' AS street
      FROM orders o JOIN operation op ON op.id = o.operation_id WHERE op.bulk_uuid = $1 ORDER BY op.request_index`, [bulk.uuid])
    expect(rows.map(r => r.sku)).toEqual(nasty)
    expect(rows.map(r => r.street)).toEqual(nasty)
    const { rows: stock } = await gateway.sql.query('SELECT sku, available FROM inventory WHERE sku = ANY($1)', [nasty])
    expect(new Map(stock.map(row => [row.sku, row.available]))).toEqual(new Map(nasty.map(sku => [sku, 9])))
    const { rows: tables } = await gateway.sql.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN (\'orders\', \'bulk\', \'operation\')')
    expect(tables[0].n).toBe(3)
  })
})
