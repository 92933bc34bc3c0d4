import type { IncomingMessage } from 'node:http'
import type { GraphiQLOptions } from 'graphql-yoga'

/**
 * GraphiQL on GET /graphql, for a newcomer: its scripts, styles and editor workers come from the
 * gateway itself (@graphql-yoga/render-graphiql inlines them in the page; yoga's default loads them
 * from a CDN, and shows only "Loading…" on a machine without internet access), its Headers tab
 * opens with the Authorization header to fill, and its first tab holds example operations.
 */
export interface GraphiQLPage {
  /** Yoga's `graphiql` option: the page's options for each request. */
  readonly options: (request: Request, serverContext?: { req?: IncomingMessage }) => GraphiQLOptions
  /** Yoga's `renderGraphiQL` option. */
  readonly render: (options: GraphiQLOptions) => Promise<string>
}

/** The example operations of the first tab: the README's first order, its bulk, the order, and a subscription. */
export const EXAMPLE_OPERATIONS = `# The order operations gateway. Every request needs a token: put it in the Headers tab below,
# {"Authorization": "Bearer oog_…"} (npm start printed an admin token at its first start).
# Run one of these with the ▶ button (or Ctrl-Enter with the cursor in it); the variables are in the Variables tab.

mutation PlaceOrder($order: PlaceOrderInput!) {
  placeOrder(input: $order) { bulkUuid errors requestItems { id status orderNumber errorMessage } }
}

query RecentBulks {
  bulks(first: 5) { edges { node { uuid status description counts { open complete notRetriablyFailed rejected } } } }
}

query Order($orderNumber: String!) {
  order(number: $orderNumber) { number status total steps { name status attempts lastError } }
}

# The bulk now, then every change until it has finished (over WebSocket, with the same header).
subscription WatchBulk($bulkUuid: ID!) {
  bulkStatus(uuid: $bulkUuid) { status progress counts { open complete notRetriablyFailed rejected } }
}
`

const EXAMPLE_VARIABLES = JSON.stringify({
  order: {
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '19.99' }],
    shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
  },
  orderNumber: 'ORD-00000001',
  bulkUuid: 'the bulkUuid PlaceOrder answered'
}, null, 2)

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** A request from this machine to this machine by a loopback name: a browser on the developer's own computer. */
function fromThisMachine (request: Request, req: IncomingMessage | undefined): boolean {
  const address = req?.socket.remoteAddress
  const host = request.headers.get('host')?.replace(/:\d+$/, '')
  return address !== undefined && LOOPBACK_ADDRESSES.has(address) && host !== undefined && LOOPBACK_HOSTS.has(host)
}

/**
 * The page's options. `localAdminToken`: the admin token to prefill the Authorization header with,
 * for requests from this machine only; given only on the embedded default (a developer's own
 * computer, where `npm start` created or was given the token), never with DATABASE_URL.
 */
export function graphiqlPage (title: string, localAdminToken: string | undefined): GraphiQLPage {
  return {
    options: (request, serverContext) => {
      const token = localAdminToken !== undefined && fromThisMachine(request, serverContext?.req) ? localAdminToken : '<your token>'
      const headers = JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2)
      // `variables` fills the Variables editor at first (yoga's page reads it; its type leaves it out): without
      // it the editor starts empty and empties the first tab's variables too.
      const options: GraphiQLOptions & { variables: string } = {
        title,
        variables: EXAMPLE_VARIABLES,
        // GraphiQL sends the Headers tab's headers with every HTTP request, and with each WebSocket
        // operation in its extensions, where the gateway reads them (src/api/http.ts).
        subscriptionsProtocol: 'WS',
        headers,
        defaultHeaders: headers,
        defaultTabs: [{ query: EXAMPLE_OPERATIONS, variables: EXAMPLE_VARIABLES, headers }],
        defaultEditorToolsVisibility: 'headers',
        // The token stays in the browser's storage, so that a reload keeps it.
        shouldPersistHeaders: true
      }
      return options
    },
    render: memoized()
  }
}

/**
 * The page is about 9 MB (GraphiQL, Monaco and its workers, inline): building it takes tens of
 * milliseconds of the event loop, so each page (there are two: with the token filled in, or not) is
 * built once. Its module holds those scripts as strings (about 28 MB of heap): it is loaded when a
 * browser first asks for the page, so that a gateway nobody opens GraphiQL on (a worker, a gateway
 * in production) never holds them.
 */
function memoized (): (options: GraphiQLOptions) => Promise<string> {
  const pages = new Map<string, string>()
  return async (options) => {
    const key = JSON.stringify(options)
    let page = pages.get(key)
    if (page === undefined) {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql')
      pages.set(key, page = renderGraphiQL(options))
    }
    return page
  }
}
