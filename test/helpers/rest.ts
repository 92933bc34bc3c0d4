import type { TestGateway } from './gateway.ts'

export interface RestAnswer {
  readonly status: number
  readonly headers: Headers
  /** The body as sent. */
  readonly text: string
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly body: any
}

export interface RestClient {
  /** The gateway's address without a path: http://127.0.0.1:port */
  readonly base: string
  /** GET `path` with `token` (default: the admin token; null: none). */
  get (path: string, token?: string | null): Promise<RestAnswer>
  /** POST `body` as JSON (a string is sent as it is) to `path`, with `token` as get. */
  post (path: string, body: unknown, token?: string | null, headers?: Record<string, string>): Promise<RestAnswer>
}

/** Real HTTP requests to a test gateway's REST routes. */
export function restClient (gateway: TestGateway): RestClient {
  const base = gateway.httpUrl.replace(/\/graphql$/, '')
  const send = async (method: string, path: string, token: string | null | undefined, body?: string, headers: Record<string, string> = {}): Promise<RestAnswer> => {
    const given = token === undefined ? gateway.adminToken : token
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(given !== null ? { authorization: `Bearer ${given}` } : {}),
        ...headers
      },
      ...(body !== undefined ? { body } : {})
    })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: response.status, headers: response.headers, text, body: parsed }
  }
  return {
    base,
    get: async (path, token) => await send('GET', path, token),
    post: async (path, body, token, headers) => await send('POST', path, token, typeof body === 'string' ? body : JSON.stringify(body), headers)
  }
}

interface MagentoItem { sku: string, qty_ordered?: number | string, price?: number | string, parent_item_id?: number, [field: string]: unknown }

/**
 * An order in Magento's entity shape (POST /V1/orders), with fields the gateway ignores besides the
 * ones it honours; `overrides` replace fields of the entity.
 */
export function magentoOrder (overrides: Record<string, unknown> = {}): { entity: { items: MagentoItem[], extension_attributes: unknown, [field: string]: unknown } } {
  return {
    entity: {
      customer_email: 'ada@example.com',
      customer_firstname: 'Ada',
      order_currency_code: 'EUR',
      base_currency_code: 'EUR',
      grand_total: 45.48,
      status: 'pending',
      increment_id: '000000042',
      store_id: 1,
      items: [
        { sku: 'DEMO-0001', name: 'Demo one', product_type: 'simple', qty_ordered: 2, price: 19.99, row_total: 39.98 },
        { sku: 'DEMO-0002', name: 'Demo two', qty_ordered: '1.0000', price: '5.5' }
      ],
      billing_address: { firstname: 'Charles', lastname: 'Babbage', street: ['Elsewhere 2'], city: 'London', postcode: 'N1', country_id: 'GB' },
      payment: { method: 'braintree', extension_attributes: { vault_payment_token: { gateway_token: 'tok_visa', public_hash: 'abc' } } },
      extension_attributes: {
        shipping_assignments: [{
          shipping: {
            address: { firstname: 'Ada', lastname: 'Lovelace', street: ['Main Street 1', 'Floor 2'], city: 'Berlin', postcode: '10115', country_id: 'DE' },
            method: 'flatrate_flatrate'
          },
          items: []
        }]
      },
      ...overrides
    }
  }
}
