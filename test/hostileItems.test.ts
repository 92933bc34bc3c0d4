import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, PLACE_ORDERS, startGateway, type TestGateway } from './helpers/gateway.ts'
import { upload } from './helpers/upload.ts'

// Issue #12, items 8 and 9: how much of one line the gateway holds, and text PostgreSQL cannot
// store. Each hostile item is that item's REJECTED status; the rest of its bulk goes on.

/** The gateway role alone (nothing is processed), with small JSONL lines. */
let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'], env: { MAX_JSONL_LINE_BYTES: '4096' } })
})
afterAll(async () => { await gateway?.stop() })

async function counts (): Promise<{ bulks: number, operations: number }> {
  const { rows } = await gateway.sql.query('SELECT (SELECT count(*) FROM bulk)::int AS bulks, (SELECT count(*) FROM operation)::int AS operations')
  return rows[0]
}

async function storedData (bulkUuid: string): Promise<unknown[]> {
  const { rows } = await gateway.sql.query('SELECT data FROM operation WHERE bulk_uuid = $1 ORDER BY request_index', [bulkUuid])
  return rows.map(row => row.data)
}

describe('JSONL lines over MAX_JSONL_LINE_BYTES', () => {
  it('rejects an over-long line as that item alone, unread and not stored, and accepts the others', async () => {
    const long = JSON.stringify(order({ shippingAddress: { name: 'x'.repeat(100_000), street: 'S', city: 'C', postcode: '1', country: 'DE' } }))
    const lines = [JSON.stringify(order()), long, 'y'.repeat(200_000), JSON.stringify(order())].join('\n') + '\n'
    const { body } = await upload(gateway, lines)
    expect(body.errors).toBeUndefined()
    const items = body.data.placeOrdersFromFile.requestItems
    expect(items.map((item: any) => item.status)).toEqual(['ACCEPTED', 'REJECTED', 'REJECTED', 'ACCEPTED'])
    expect(items[1].errorMessage).toBe('line 2: longer than 4096 bytes (MAX_JSONL_LINE_BYTES); not read')
    expect(items[2].errorMessage).toBe('line 3: longer than 4096 bytes (MAX_JSONL_LINE_BYTES); not read')
    const data = await storedData(body.data.placeOrdersFromFile.bulkUuid)
    expect(data[1]).toBeNull()
    expect(data[2]).toBeNull()
  })
})

describe('a NUL or an unpaired surrogate in a string', () => {
  const hostile = [
    order(),
    order({ shippingAddress: { name: 'Ada\u0000Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' } }),
    order({ items: [{ sku: 'DEMO-0001\uD800', quantity: 1, unitPrice: '1.00' }] }),
    order({ customerEmail: 'ada\uDC00@example.com' }),
    order({ 'note\u0000': 'a field name' })
  ]

  it('sent as JSON variables: rejects each such item alone, naming the field, and accepts the rest', async () => {
    const { data, errors } = await gateway.gql(PLACE_ORDERS, { input: hostile.slice(0, 4) })
    expect(errors).toBeUndefined()
    const items = data.placeOrders.requestItems
    expect(items.map((item: any) => item.status)).toEqual(['ACCEPTED', 'REJECTED', 'REJECTED', 'REJECTED'])
    expect(items[1].errorMessage).toBe('shippingAddress.name contains a NUL character (U+0000), which cannot be stored')
    expect(items[2].errorMessage).toBe('items[0].sku contains an unpaired surrogate (U+D800), which is not valid Unicode')
    expect(items[3].errorMessage).toBe('customerEmail contains an unpaired surrogate (U+DC00), which is not valid Unicode')
    // Stored as sent, but for the characters PostgreSQL cannot hold.
    const stored = await storedData(data.placeOrders.bulkUuid) as any[]
    expect(stored[1].shippingAddress.name).toBe('Ada\uFFFDLovelace')
    expect(stored[2].items[0].sku).toBe('DEMO-0001\uFFFD')
  })

  it('sent in a JSONL upload: a raw NUL byte, escaped ones, a surrogate on its own and an unknown field name', async () => {
    const lines = [
      JSON.stringify(order()),
      JSON.stringify(order()).replace('Ada Lovelace', 'Ada\u0000Lovelace'), // a NUL byte inside a JSON string: not JSON
      JSON.stringify(hostile[1]), // escaped: \u0000
      JSON.stringify(hostile[2]), // escaped: \ud800
      JSON.stringify(hostile[4])
    ].join('\n') + '\n'
    expect(lines).toContain('\u0000')
    const surrogateBytes = Buffer.concat([Buffer.from(JSON.stringify(order()).replace('Berlin', 'Berl')), Buffer.from([0xed, 0xa0, 0x80])])
    const { body } = await upload(gateway, Buffer.concat([Buffer.from(lines), surrogateBytes, Buffer.from('\n')]))
    expect(body.errors).toBeUndefined()
    const items = body.data.placeOrdersFromFile.requestItems
    expect(items.map((item: any) => item.status)).toEqual(['ACCEPTED', 'REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'REJECTED'])
    expect(items[1].errorMessage).toMatch(/^line 2: not JSON \(/)
    expect(items[2].errorMessage).toBe('line 3: shippingAddress.name contains a NUL character (U+0000), which cannot be stored')
    expect(items[3].errorMessage).toBe('line 4: items[0].sku contains an unpaired surrogate (U+D800), which is not valid Unicode')
    expect(items[4].errorMessage).toBe('line 5: a field name contains a NUL character (U+0000), which cannot be stored')
    expect(items[5].errorMessage).toBe('line 6: not valid UTF-8')
    const stored = await storedData(body.data.placeOrdersFromFile.bulkUuid)
    expect(stored[1]).toBe(JSON.stringify(order()).replace('Ada Lovelace', 'Ada\uFFFDLovelace'))
  })

  it('in a description or a notifyUrl: refuses the request, naming the argument, and writes nothing', async () => {
    const before = await counts()
    const described = await gateway.gql(PLACE_ORDERS, { input: [order()], description: 'nightly\u0000' })
    expect(described.data).toBeNull()
    expect(described.errors?.[0]?.message).toContain('description')
    expect(described.errors?.[0]?.message).toContain('must not contain a NUL character')
    const notified = await gateway.gql('mutation ($input: PlaceOrderInput!, $url: String) { placeOrder(input: $input, notifyUrl: $url) { bulkUuid } }',
      { input: order(), url: 'https://example.com/\uD800' })
    expect(notified.errors?.[0]?.message).toContain('notifyUrl')
    expect(await counts()).toEqual(before)
  })
})

describe('multipart requests', () => {
  it('answers a multipart content type without a boundary with 400 and writes nothing', async () => {
    const before = await counts()
    const response = await fetch(gateway.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data', 'graphql-require-preflight': '1', authorization: `Bearer ${gateway.adminToken}` },
      body: 'no boundary'
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as any).errors[0].message).toMatch(/^invalid multipart request/)
    expect(await counts()).toEqual(before)
  })
})
