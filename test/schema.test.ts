import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { GraphQLObjectType } from 'graphql'
import { printSdl, schema } from '../src/api/graphql/schema.ts'

describe('schema/schema.graphql', () => {
  it('is what the code prints (run `npm run schema` after changing the schema)', () => {
    const committed = fs.readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8')
    expect(committed).toBe(printSdl())
  })

  it('keeps the names and types of the contract', () => {
    const field = (type: 'Query' | 'Mutation' | 'Subscription', name: string): string => {
      const found = schema.getType(type) as GraphQLObjectType
      const f = found.getFields()[name]
      if (!f) throw new Error(`${type}.${name} is missing`)
      return `${f.args.map(arg => `${arg.name}: ${String(arg.type)}`).sort().join(', ')} => ${String(f.type)}`
    }
    expect(field('Mutation', 'placeOrder')).toMatch(/(^|, )input: PlaceOrderInput!(, |.* => )/)
    expect(field('Mutation', 'placeOrder')).toMatch(/ => AsyncResponse!$/)
    expect(field('Mutation', 'placeOrders')).toMatch(/^description: String, .*input: \[PlaceOrderInput!\]!.* => AsyncResponse!$/)
    expect(field('Query', 'bulk')).toBe('uuid: ID! => Bulk')
    expect(field('Subscription', 'bulkStatus')).toBe('uuid: ID! => Bulk!')
    const bulk = schema.getType('Bulk') as GraphQLObjectType
    expect(String(bulk.getFields().operations?.type)).toBe('OperationConnection!')
    expect(Object.keys((schema.getType('OperationCounts') as GraphQLObjectType).getFields()))
      .toEqual(expect.arrayContaining(['open', 'complete', 'retriablyFailed', 'notRetriablyFailed', 'rejected']))
    expect(printSdl()).toContain('scalar Decimal')
  })
})
