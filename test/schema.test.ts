import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { printSdl } from '../src/graphql/schema.ts'

describe('schema/schema.graphql', () => {
  it('is what the code prints (run `npm run schema` after changing the schema)', () => {
    const committed = fs.readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8')
    expect(committed).toBe(printSdl())
  })

  it('keeps the names of the contract', () => {
    const sdl = printSdl()
    for (const line of [
      'placeOrder(input: PlaceOrderInput!): AsyncResponse!',
      'placeOrders(description: String, input: [PlaceOrderInput!]!): AsyncResponse!',
      'bulk(uuid: ID!): Bulk',
      'bulkStatus(uuid: ID!): Bulk!',
      'operations(after: String, before: String, first: Int, last: Int, status: OperationStatus): OperationConnection!',
      'scalar Decimal'
    ]) expect(sdl).toContain(line)
  })
})
