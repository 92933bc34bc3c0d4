import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { execute, subscribe, type ExecutionArgs, type GraphQLSchema } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { createYoga } from 'graphql-yoga'
import { WebSocketServer } from 'ws'
import type { Context } from '../graphql/builder.ts'
import type { Services } from '../graphql/services.ts'
import type { Logger } from '../log.ts'

/** A plain HTTP route served before GraphQL (the results file): returns true when it took the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean

/** What onSubscribe leaves in rootValue: yoga's enveloped execute and subscribe for this operation. */
interface EnvelopedRoot { execute: typeof execute, subscribe: typeof subscribe }

export interface GraphQLServer {
  readonly server: Server
  /** The port actually bound (useful with port 0). */
  listen (port: number, host: string): Promise<number>
  /** Stops accepting, waits up to `timeoutMs` for requests under way, then closes the rest. */
  close (timeoutMs?: number): Promise<void>
}

/**
 * GraphQL over HTTP (graphql-yoga, with GraphiQL on GET /graphql) and over WebSocket
 * (graphql-ws, same port and path), sharing one schema and one context.
 */
export function createGraphQLServer (schema: GraphQLSchema, services: Services, log: Logger, routes: readonly HttpRoute[] = []): GraphQLServer {
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    // Over WebSocket there is no fetch Request (graphql-ws hands the upgrade request instead).
    context: ({ request }: { request?: Request }): Context => ({
      services,
      idempotencyKey: request?.headers.get('idempotency-key') ?? null
    }),
    graphiql: { subscriptionsProtocol: 'WS', title: 'Order operations gateway' },
    landingPage: false,
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' '))
    }
  })

  // Plain routes first (GET /bulks/:uuid/results.jsonl); everything else is yoga's.
  const server = createServer((req, res) => {
    if (!routes.some(route => route(req, res))) void yoga(req, res)
  })
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint })

  // The graphql-ws recipe from graphql-yoga: run each WebSocket operation through yoga's
  // envelop pipeline, so that the same plugins (masking, validation) apply as over HTTP.
  const wsCleanup = useServer({
    execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
    onSubscribe: async (ctx, _id, params) => {
      const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params })
      const args = {
        schema: enveloped.schema,
        operationName: params.operationName,
        document: enveloped.parse(params.query),
        variableValues: params.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe }
      }
      const errors = enveloped.validate(args.schema, args.document)
      if (errors.length > 0) return errors
      return args
    }
  }, wsServer)

  return {
    server,
    async listen (port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => { server.off('error', reject); resolve() })
      })
      return (server.address() as AddressInfo).port
    },
    async close (timeoutMs = 15_000) {
      // Stop accepting; let requests under way finish (an accepted bulk must get its answer, or its
      // client would retry and duplicate it), then close what is left after `timeoutMs`.
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeIdleConnections()
      await wsCleanup.dispose()
      wsServer.close()
      const timer = setTimeout(() => server.closeAllConnections(), timeoutMs)
      await closed
      clearTimeout(timer)
    }
  }
}
