/** Valid PlaceOrderInput values, the same shape for every scenario. */
export interface BenchOrder {
  readonly customerEmail: string
  readonly currency: string
  readonly items: ReadonlyArray<{ sku: string, quantity: number, unitPrice: string }>
  readonly shippingAddress: { name: string, street: string, city: string, postcode: string, country: string }
}

export function order (i: number): BenchOrder {
  return {
    customerEmail: `buyer${i}@example.com`,
    currency: 'EUR',
    items: [{ sku: `DEMO-${String(i % 100 + 1).padStart(4, '0')}`, quantity: 1 + (i % 3), unitPrice: '19.99' }],
    shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
  }
}

export function orders (count: number, from = 0): BenchOrder[] {
  return Array.from({ length: count }, (_, i) => order(from + i))
}

export const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { bulkUuid errors } }'
export const PLACE_ORDERS = 'mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { bulkUuid errors } }'
export const BULK_STATUS = 'query ($uuid: ID!) { bulk(uuid: $uuid) { status counts { open complete retriablyFailed notRetriablyFailed rejected canceled } } }'
