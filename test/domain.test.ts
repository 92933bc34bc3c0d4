import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../src/operations/domain/canonicalJson.ts'
import { orderTotal, validatePlaceOrder, type PlaceOrderInput } from '../src/orders/domain/placeOrder.ts'

const valid: PlaceOrderInput = {
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [{ sku: 'DEMO-0001', quantity: 3, unitPrice: '0.3333' }],
  shippingAddress: { name: 'Ada', street: 'Main 1', city: 'Berlin', postcode: '10115', country: 'DE' }
}

describe('validatePlaceOrder', () => {
  it('accepts a valid order', () => {
    expect(validatePlaceOrder(valid)).toEqual({ ok: true })
  })

  it.each([
    [{ customerEmail: 'ada@' }, 'customerEmail must be an email address'],
    [{ customerEmail: 'ada example@x.io' }, 'customerEmail must be an email address'],
    [{ currency: 'eur' }, 'currency must be an ISO 4217 code'],
    [{ items: [] }, 'items must contain at least one item'],
    [{ items: [{ sku: 'A', quantity: -1, unitPrice: '1' }] }, 'items[0].quantity must be greater than 0'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: '-0.01' }] }, 'items[0].unitPrice must be 0 or more'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: '0.00001' }] }, 'items[0].unitPrice must have at most 4 decimals'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: '1000000000000000' }] }, 'items[0].unitPrice must be less than 10^15'],
    [{ items: [{ sku: 'A', quantity: 1_000_000, unitPrice: '1000000000' }] }, 'the order total must be less than 10^15, got 1000000000000000.0000'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: '1'.repeat(100_000) }] }, 'items[0].unitPrice must be at most 40 characters, got 100000'],
    [{ shippingAddress: { ...valid.shippingAddress, city: '   ' } }, 'shippingAddress.city must not be empty'],
    [{ shippingAddress: { ...valid.shippingAddress, country: 'XX' } }, 'shippingAddress.country must be an ISO 3166-1 alpha-2 code']
  ])('rejects %j with a message naming the field', (change, message) => {
    const result = validatePlaceOrder({ ...valid, ...change } as PlaceOrderInput)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.message).toContain(message)
  })

  it('takes every amount below 10^15, the bound of the narrowest money column (numeric(19, 4))', () => {
    expect(validatePlaceOrder({ ...valid, items: [{ sku: 'A', quantity: 1, unitPrice: '999999999999999.9999' }] })).toEqual({ ok: true })
    expect(validatePlaceOrder({ ...valid, items: [{ sku: 'A', quantity: 1, unitPrice: '0' }] })).toEqual({ ok: true })
  })

  it('reports every problem of an item at once', () => {
    const result = validatePlaceOrder({ ...valid, currency: 'X', customerEmail: 'x' })
    expect(!result.ok && result.message.split('; ')).toHaveLength(2)
  })

  it('names the fields as an edge that takes another shape asks (Magento\'s order entity)', () => {
    const names = (field: string, item?: number): string => item === undefined ? `entity.${field}` : `entity.items[${item + 1}].${field}`
    const result = validatePlaceOrder({ ...valid, currency: 'X', items: [{ sku: '', quantity: 0, unitPrice: '1' }] }, names)
    expect(!result.ok && result.message).toBe('entity.currency must be an ISO 4217 code such as EUR or USD, got "X"; ' +
      'entity.items[1].items.sku must not be empty; entity.items[1].items.quantity must be greater than 0, got 0')
  })
})

describe('orderTotal', () => {
  it('is exact to four decimals', () => {
    expect(orderTotal(valid.items)).toBe('0.9999')
    expect(orderTotal([{ sku: 'A', quantity: 3, unitPrice: '0.1' }, { sku: 'B', quantity: 1, unitPrice: '19.99' }])).toBe('20.2900')
    expect(orderTotal([{ sku: 'A', quantity: 1_000_000, unitPrice: '99999999.9999' }])).toBe('99999999999900.0000')
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}')
  })
})
