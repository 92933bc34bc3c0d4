import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { execute, subscribe, type ExecutionArgs, type GraphQLSchema } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { createYoga } from 'graphql-yoga'
import { WebSocketServer } from 'ws'
import type { Context } from '../graphql/builder.ts'
import type { Logger } from '../log.ts'

/** What onSubscribe leaves in rootValue: yoga's enveloped execute and subscribe for this operation. */
interface EnvelopedRoot { execute: typeof execute, subscribe: typeof subscribe }

export interface GraphQLServer {
  readonly server: Server
  /** The port actually bound (useful with port 0). */
  listen (port: number, host: string): Promise<number>
  close (): Promise<void>
}

/**
 * GraphQL over HTTP (graphql-yoga, with GraphiQL on GET /graphql) and over WebSocket
 * (graphql-ws, same port and path), sharing one schema and one context.
 */
export function createGraphQLServer (schema: GraphQLSchema, context: Context, log: Logger): GraphQLServer {
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    context: () => context,
    graphiql: { subscriptionsProtocol: 'WS', title: 'Order operations gateway' },
    landingPage: false,
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' '))
    }
  })

  const server = createServer(yoga)
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
    async close () {
      await wsCleanup.dispose()
      wsServer.close()
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
  }
}
