/**
 * The subscriptions baseline: a bare graphql-ws server with an in-process pubsub, in a process of its
 * own. It LISTENs on `bench_fanout` and publishes each payload to every subscriber of bulkStatus,
 * so a status change reaches it the way a committed one reaches the gateway, minus the gateway's work.
 */
import { setMaxListeners } from 'node:events'
import { createServer } from 'node:http'
import { createPubSub, createSchema } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import pg from 'pg'
import { WebSocketServer } from 'ws'
import type { StatusMessage } from '../lib/subscribers.ts'
import { params, ready } from './protocol.ts'

// One pubsub listener per subscriber, 1,000 of them, is the point here.
setMaxListeners(0)
const { url } = params<{ url: string }>()
const pubsub = createPubSub<{ status: [StatusMessage] }>()
let current: StatusMessage = { status: 'IN_PROGRESS', counts: { open: 0, complete: 0 } }

const schema = createSchema({
  typeDefs: `
    type Counts { open: Int! complete: Int! }
    type Status { status: String! counts: Counts! }
    type Query { ok: Boolean }
    type Subscription { bulkStatus(uuid: ID!): Status! }`,
  resolvers: {
    Subscription: {
      bulkStatus: {
        // The current state first, then every change, as the gateway's subscription does.
        subscribe: async function * () {
          yield current
          for await (const state of pubsub.subscribe('status')) yield state
        },
        resolve: (state: StatusMessage) => state
      }
    }
  }
})

const listener = new pg.Client({ connectionString: url })
await listener.connect()
listener.on('notification', (message) => {
  current = JSON.parse(message.payload ?? '{}') as StatusMessage
  pubsub.publish('status', current)
})
await listener.query('LISTEN bench_fanout')

const server = createServer()
const wss = new WebSocketServer({ server, path: '/graphql' })
useServer({ schema }, wss)
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  ready({ wsUrl: `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graphql` })
})
process.on('SIGTERM', () => { void listener.end().finally(() => process.exit(0)) })
