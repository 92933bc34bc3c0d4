import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../src/operations/domain/canonicalJson.ts'
import { order, startGateway, type TestGateway } from './helpers/gateway.ts'
import { upload } from './helpers/upload.ts'

// Issue 17, item 5: a gateway's memory does not grow with an upload's size. The answer to a JSONL
// upload is read from its bulk's operations as the client asks for it, instead of being held whole
// until it is sent.

let gateway: TestGateway
beforeAll(async () => {
  // Acceptance only: the items keep the status they were accepted with.
  gateway = await startGateway({ roles: ['gateway'] })
})
afterAll(async () => { await gateway?.stop() })

const ITEM = 'id status orderNumber dataHash errorMessage'
const uploadQuery = (args: string, items: string): string =>
  `mutation ($file: Upload!) { placeOrdersFromFile(file: $file${args}) { bulkUuid errors ${items} } }`

async function countRows (): Promise<{ bulks: number, operations: number, keys: number }> {
  const { rows: [row] } = await gateway.sql.query(`SELECT (SELECT count(*) FROM bulk)::int AS bulks,
    (SELECT count(*) FROM operation)::int AS operations, (SELECT count(*) FROM idempotency_key)::int AS keys`)
  return row
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

// Seven items: accepted ones, a line that is not JSON, one with a bad field, one with an unknown field.
const LINES = [
  JSON.stringify(order({ customerEmail: 'answer-0@example.com' })),
  '{ not json',
  JSON.stringify(order({ customerEmail: 'answer-2@example.com' })),
  JSON.stringify(order({ items: [{ sku: 'DEMO-0001', quantity: 'two', unitPrice: '1.00' }] })),
  JSON.stringify(order({ customerEmail: 'answer-4@example.com' })),
  JSON.stringify(order({ extra: true })),
  JSON.stringify(order({ customerEmail: 'answer-6@example.com' }))
]
const FILE = LINES.join('\n') + '\n'

/** What each line's item must say: its hash is of its canonical JSON (of the line as text when it is not JSON). */
function expectedItems (): any[] {
  const rejected: Record<number, RegExp> = {
    1: /^line 2: not JSON/,
    3: /^line 4: items\[0\]\.quantity must be a whole number/,
    5: /^line 6: extra is not a field of PlaceOrderInput/
  }
  return LINES.map((line, id) => {
    const parsed = id === 1 ? line : JSON.parse(line)
    return rejected[id] === undefined
      ? { id, status: 'ACCEPTED', orderNumber: expect.stringMatching(/^ORD-\d+$/), dataHash: sha256(canonicalJson(parsed)), errorMessage: null }
      : { id, status: 'REJECTED', orderNumber: null, dataHash: sha256(canonicalJson(parsed)), errorMessage: expect.stringMatching(rejected[id]!) }
  })
}

describe("an upload's requestItems", () => {
  it('are every item in request order, rejected ones with their messages, and each placement with its order', async () => {
    const { body } = await upload(gateway, FILE, uploadQuery('', `requestItems { ${ITEM} }`))
    expect(body.errors).toBeUndefined()
    const answer = body.data.placeOrdersFromFile
    expect(answer.errors).toBe(true)
    expect(answer.requestItems).toEqual(expectedItems())
    // The order numbers are those the placements were given, each its own.
    const { rows } = await gateway.sql.query('SELECT request_index, ordering_key FROM operation WHERE bulk_uuid = $1 AND status = \'OPEN\' ORDER BY request_index', [answer.bulkUuid])
    expect(rows.map(row => row.ordering_key)).toEqual(answer.requestItems.filter((item: any) => item.status === 'ACCEPTED').map((item: any) => item.orderNumber))
    expect(new Set(rows.map(row => row.ordering_key)).size).toBe(4)
  })

  it('are paged with offset and first, and a page past the end is empty', async () => {
    const { body } = await upload(gateway, FILE, uploadQuery('', `all: requestItems { ${ITEM} } page: requestItems(offset: 2, first: 3) { ${ITEM} }
      tail: requestItems(offset: 5) { id } none: requestItems(offset: 7) { id } zero: requestItems(first: 0) { id }`))
    expect(body.errors).toBeUndefined()
    const answer = body.data.placeOrdersFromFile
    expect(answer.all).toEqual(expectedItems())
    expect(answer.page).toEqual(answer.all.slice(2, 5))
    expect(answer.tail).toEqual([{ id: 5 }, { id: 6 }])
    expect(answer.none).toEqual([])
    expect(answer.zero).toEqual([])
  })

  it('page an answer held in memory (placeOrders) the same way', async () => {
    const { data, errors } = await gateway.gql(`mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) {
      all: requestItems { id status } page: requestItems(offset: 1, first: 1) { id status } } }`,
    { input: [order(), order({ currency: 'nope' }), order()] })
    expect(errors).toBeUndefined()
    expect(data.placeOrders.all.map((item: any) => item.status)).toEqual(['ACCEPTED', 'REJECTED', 'ACCEPTED'])
    expect(data.placeOrders.page).toEqual([{ id: 1, status: 'REJECTED' }])
  })

  it('refuse a negative offset or first', async () => {
    const { body } = await upload(gateway, FILE, uploadQuery('', 'requestItems(first: -1) { id }'))
    expect(body.errors?.[0]?.message).toContain('first')
  })

  it('are answered the same to an idempotent replay, which writes nothing', async () => {
    const query = uploadQuery(', idempotencyKey: "upload-answer-1"', `requestItems { ${ITEM} } page: requestItems(offset: 3, first: 2) { ${ITEM} }`)
    const first = await upload(gateway, FILE, query)
    expect(first.body.errors).toBeUndefined()
    const before = await countRows()
    const again = await upload(gateway, FILE, query)
    expect(again.body.errors).toBeUndefined()
    expect(again.body.data.placeOrdersFromFile).toEqual(first.body.data.placeOrdersFromFile)
    expect(again.body.data.placeOrdersFromFile.requestItems).toEqual(expectedItems())
    expect(again.body.data.placeOrdersFromFile.page).toEqual(expectedItems().slice(3, 5))
    expect(await countRows()).toEqual(before)
    // The key keeps the answer without its items: they are the bulk's operations.
    const { rows: [key] } = await gateway.sql.query('SELECT response FROM idempotency_key WHERE key = $1', ['upload-answer-1'])
    expect(key.response).toEqual({ bulkUuid: first.body.data.placeOrdersFromFile.bulkUuid, errors: true, requestItems: null })
  })

  it('with REJECT_EVERYTHING and an invalid line: every item rejected, from the upload itself, and nothing written', async () => {
    const before = await countRows()
    const { body } = await upload(gateway, FILE, uploadQuery(', errorPolicy: REJECT_EVERYTHING', 'requestItems { id status dataHash errorMessage }'))
    expect(body.errors).toBeUndefined()
    const items = body.data.placeOrdersFromFile.requestItems
    expect(items.map((item: any) => [item.id, item.status])).toEqual(LINES.map((_, id) => [id, 'REJECTED']))
    expect(items.map((item: any) => item.dataHash)).toEqual(expectedItems().map(item => item.dataHash))
    expect(items[0].errorMessage).toBe('not accepted: 3 other item(s) of this request are invalid and errorPolicy is REJECT_EVERYTHING')
    expect(items[1].errorMessage).toMatch(/^line 2: not JSON/)
    expect(await countRows()).toEqual(before)
  })
})
