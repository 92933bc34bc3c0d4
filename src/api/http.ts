import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { execute, GraphQLError, subscribe, type ExecutionArgs, type GraphQLSchema } from 'graphql'
import { REQUEST_ERROR_CODE } from '../operations/errors.ts'
import { CloseCode } from 'graphql-ws'
import { useServer, type Extra } from 'graphql-ws/use/ws'
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga'
import { WebSocketServer } from 'ws'
import type { Principal } from '../access/principal.ts'
import { graphiqlPage, type GraphiQLPage } from './graphiql.ts'
import type { Authenticate, Authenticator } from './auth/authenticate.ts'
import { TooManyAuthFailuresError } from './auth/failures.ts'
import type { Context } from './graphql/builder.ts'
import { LIMIT_ERROR_CODE } from './security/codes.ts'
import type { Services } from './graphql/services.ts'
import type { Logger } from '../platform/log.ts'
import { useStreamingUploads } from './streamingUploads.ts'
import { createRequestLog, metricsPlugins } from './metrics.ts'
import type { GatewayLimits } from './security/limits.ts'
import { parseOperation } from './security/webSocket.ts'

/** A plain HTTP route served before GraphQL (the results file): returns true when it took the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean

/** How callers are known, and the plugins that act on them once known. */
export interface GatewayAuth extends Authenticator {
  /** Envelop plugins that depend on the caller (ending the subscriptions of revoked credentials). */
  readonly plugins: readonly Plugin[]
}

/** What the composition root adds to the server, each optional. */
export interface GatewayExtras {
  /** Envelop plugins that watch every request (the GraphQL spans when tracing is on): first in the list. */
  readonly observers?: readonly Plugin[]
  /** GraphiQL's page (src/api/graphiql.ts); without it, one that prefills no token. */
  readonly graphiql?: GraphiQLPage
}

export const GRAPHIQL_TITLE = 'Order operations gateway'

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
export function createGraphQLServer (schema: GraphQLSchema, services: Services, log: Logger, routes: readonly HttpRoute[],
  auth: GatewayAuth, limits: GatewayLimits, extras: GatewayExtras = {}): GraphQLServer {
  const authenticate = auth.authenticate
  const principals = new WeakMap<Request, Principal | null>()
  const credentialsFirst = useCredentialsFirst(authenticate, principals)
  const requestLog = createRequestLog(log)
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    // Over HTTP the caller comes from the Authorization header; over WebSocket it was authenticated
    // once, in connection_init (onConnect below), and comes with the operation.
    context: async ({ request, req, principal }: { request?: Request, req?: IncomingMessage, principal?: Principal | null }): Promise<Context> => ({
      services,
      principal: principal !== undefined
        ? principal
        : request !== undefined && principals.has(request)
          ? principals.get(request)!
          : await authenticateOrRefuse(authenticate, request?.headers.get('authorization') ?? null, req?.socket.remoteAddress),
      idempotencyKey: request?.headers.get('idempotency-key') ?? null
    }),
    graphiql: limits.graphiql && (extras.graphiql ?? graphiqlPage(GRAPHIQL_TITLE, undefined)).options,
    renderGraphiQL: (extras.graphiql ?? graphiqlPage(GRAPHIQL_TITLE, undefined)).render,
    // Limits against hostile or broken clients (src/api/security/limits.ts).
    // Streaming uploads before the limits, so that the body limit counts the stream it parses.
    // Observers (traces) first, so that they see every request, refused ones included.
    plugins: [...extras.observers ?? [], ...metricsPlugins(), requestLog.plugin, credentialsFirst, ...auth.plugins, useStreamingUploads(), ...limits.plugins],
    batching: limits.batching,
    maxRequestBodySize: limits.maxRequestBodySize,
    landingPage: false,
    logging: {
      debug: (...args) => log.debug(...yogaLine(args)),
      info: (...args) => log.info(...yogaLine(args)),
      warn: (...args) => log.warn(...yogaLine(args)),
      error: (...args) => log.error(...yogaLine(args))
    }
  })

  // Plain routes first (GET /bulks/:uuid/results.jsonl); everything else is yoga's.
  const server = createServer({ requestTimeout: limits.requestTimeoutMs }, requestLog.wrap((req, res) => {
    if (!routes.some(route => route(req, res))) void yoga(req, res)
  }))
  const wsServer = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    ...limits.webSocket.serverOptions,
    // A client over the failed-authentication limit gets no socket to try credentials on.
    verifyClient: (info, done) => {
      const retryAfter = auth.failures.retryAfter(info.req.socket.remoteAddress)
      if (retryAfter === null) done(true)
      else done(false, 429, 'Too Many Requests', { 'retry-after': String(retryAfter) })
    }
  })
  limits.webSocket.watch(wsServer)

  const wsCleanup = serveGraphQLOverWebSocket(yoga, wsServer, authenticate, limits)

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

/** A line of yoga's log: its text, and an Error it passed (an unexpected error it masked) with its stack. */
function yogaLine (args: unknown[]): [string, Record<string, unknown> | undefined] {
  const error = args.find(arg => arg instanceof Error)
  const text = args.filter(arg => arg !== error).map(String).join(' ')
  return [text || (error as Error | undefined)?.message || 'graphql-yoga', error === undefined ? undefined : { error }]
}

/** The caller, or a GraphQL error (429) for a client over the failed-authentication limit. */
async function authenticateOrRefuse (authenticate: Authenticate, authorization: string | null, address: string | undefined): Promise<Principal | null> {
  try {
    return await authenticate(authorization, address)
  } catch (error) {
    if (!(error instanceof TooManyAuthFailuresError)) throw error
    throw new GraphQLError(error.message, {
      extensions: { code: LIMIT_ERROR_CODE.RATE_LIMITED, retryAfter: error.retryAfter, http: { status: 429, headers: { 'Retry-After': String(error.retryAfter) } } }
    })
  }
}

/**
 * A POST without valid credentials is answered 401 before its body is read: an anonymous caller
 * cannot make the gateway buffer a 64 MiB JSON body or a 256 MiB upload only to be refused. One
 * from a client over the failed-authentication limit is answered 429, with Retry-After.
 * GET stays open for GraphiQL's page; a GET query is refused at execution like any other.
 * The caller found is kept in `principals` for the request's context.
 */
function useCredentialsFirst (authenticate: Authenticate, principals: WeakMap<Request, Principal | null>): Plugin {
  return {
    async onRequest ({ request, serverContext, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return
      let principal: Principal | null
      try {
        // The node adapter's server context carries the node request, and with it the client's address.
        principal = await authenticate(request.headers.get('authorization'), (serverContext as { req?: IncomingMessage }).req?.socket.remoteAddress)
      } catch (error) {
        if (error instanceof TooManyAuthFailuresError) {
          endResponse(new fetchAPI.Response(JSON.stringify({
            errors: [{ message: error.message, extensions: { code: LIMIT_ERROR_CODE.RATE_LIMITED, retryAfter: error.retryAfter } }]
          }), { status: 429, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(error.retryAfter) } }))
        }
        return // e.g. a JWKS that cannot be read: decided again at execution, answered as a masked error
      }
      principals.set(request, principal)
      if (principal !== null) return
      endResponse(new fetchAPI.Response(JSON.stringify({
        errors: [{ message: 'authentication required: send an API token or a JWT as `Authorization: Bearer <token>`', extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED } }]
      }), { status: 401, headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' } }))
    }
  }
}

/**
 * The caller of a WebSocket's credentials, from the address it connected from. Refused (no one, or
 * a client over the failed-authentication limit), the socket is closed with 4403 and null returned.
 */
async function callerOfSocket (authenticate: Authenticate, authorization: string | null, extra: Extra, reason: string): Promise<Principal | null> {
  try {
    const principal = await authenticate(authorization, extra.request.socket.remoteAddress)
    if (principal === null) extra.socket.close(CloseCode.Forbidden, reason)
    return principal
  } catch (error) {
    if (!(error instanceof TooManyAuthFailuresError)) throw error
    // A close reason has at most 123 bytes.
    extra.socket.close(CloseCode.Forbidden, `Forbidden: too many failed authentications; try again in ${error.retryAfter} s`)
    return null
  }
}

/**
 * The graphql-ws recipe from graphql-yoga: each WebSocket operation runs through yoga's envelop
 * pipeline, so that the same plugins (masking, validation, limits) apply as over HTTP.
 */
function serveGraphQLOverWebSocket (yoga: YogaServerInstance<Record<string, unknown>, Context>, wsServer: WebSocketServer,
  authenticate: Authenticate, limits: GatewayLimits): ReturnType<typeof useServer> {
  return useServer<Record<string, unknown> | undefined, { authorization?: string }>(limits.webSocket.guard({
    // The token travels in connection_init: `{ "authorization": "Bearer <token>" }`; a bad one closes
    // the socket with 4403 Forbidden. A socket opened without one (GraphiQL's: it sends its Headers tab
    // with each operation, in `extensions.headers`) must name it in its first operation, or is closed
    // with 4401 Unauthorized then; either way no operation runs without credentials.
    onConnect: async (ctx) => {
      const given = ctx.connectionParams?.authorization
      if (typeof given !== 'string' || given === '') return true
      if (await callerOfSocket(authenticate, given, ctx.extra, 'Forbidden') === null) return false
      ctx.extra.authorization = given
      return true
    },
    execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
    onSubscribe: async (ctx, _id, params) => {
      // The socket's credentials, once given, are the socket's: one operation cannot act for another caller.
      ctx.extra.authorization ??= authorizationHeaderOf(params.extensions)
      if (ctx.extra.authorization === undefined) {
        ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send { authorization: "Bearer <token>" } in connection_init')
        return [new GraphQLError('authentication required', { extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED } })]
      }
      // Checked again for every operation, as over HTTP: a token revoked (or a JWT expired) after the
      // socket opened ends the socket rather than going on working.
      const principal = await callerOfSocket(authenticate, ctx.extra.authorization, ctx.extra, 'Forbidden: the credentials are no longer valid')
      if (principal === null) {
        return [new GraphQLError('the credentials are no longer valid', { extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED } })]
      }
      const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params, principal })
      const document = parseOperation(enveloped.parse, params.query)
      if (Array.isArray(document)) return document
      const args = {
        schema: enveloped.schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe }
      }
      const errors = enveloped.validate(args.schema, args.document)
      if (errors.length > 0) return errors
      return args
    }
  }), wsServer, limits.webSocket.keepAliveMs)
}

/** The Authorization header an operation names in `extensions.headers` (GraphiQL's Headers tab), in any letter case. */
function authorizationHeaderOf (extensions: Record<string, unknown> | null | undefined): string | undefined {
  const headers = extensions?.headers
  if (typeof headers !== 'object' || headers === null) return undefined
  const found = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
  return typeof found === 'string' && found !== '' ? found : undefined
}
