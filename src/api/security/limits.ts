import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { GraphQLError } from 'graphql'
import type { BatchingOptions, Plugin } from 'graphql-yoga'
import type { LimitsConfig } from './options.ts'
import type { Db } from '../../platform/db/pool.ts'
import { useBodyLimits } from './bodyLimit.ts'
import { LIMIT_ERROR_CODE } from './codes.ts'
import { useQueryCost } from './queryCost.ts'
import { armorPlugins, useIntrospectionOff, useParseAndValidationCodes } from './queryLimits.ts'
import { useRateLimit, type RateLimitOptions } from './rateLimit.ts'
import { RateLimitLeases } from '../../access/rateLimitLeases.ts'
import { useSubscriptionsOverWebSocketOnly } from './subscriptionTransport.ts'
import { webSocketLimits, type WebSocketLimits } from './webSocket.ts'

/**
 * Any of these headers makes a browser send a CORS preflight first, so a request carrying one
 * cannot come from another site's page unnoticed. Ours first; Apollo's and yoga's for their clients.
 */
export const CSRF_PREVENTION_HEADERS: readonly string[] = Object.freeze(['graphql-require-preflight', 'apollo-require-preflight', 'x-graphql-yoga-csrf'])

/** Everything the limits add to the GraphQL server (src/api/http.ts), built from the configuration. */
export interface GatewayLimits {
  /** For createYoga's `plugins`, in this order. */
  readonly plugins: Plugin[]
  /** For createYoga's `batching`: off unless GRAPHQL_BATCHING is set. */
  readonly batching: BatchingOptions
  /** For createYoga's `maxRequestBodySize`: off, because the body limits plugin has one per content type. */
  readonly maxRequestBodySize: false
  /** Whether GraphiQL is served on GET /graphql. */
  readonly graphiql: boolean
  /** For the HTTP server's `requestTimeout`: a minute more than UPLOAD_TIMEOUT_SECONDS, so that the upload's own timeout answers first. */
  readonly requestTimeoutMs: number
  readonly webSocket: WebSocketLimits
  /** The per-caller rate limit, also counted by the routes beside GraphQL (the results file). */
  readonly rateLimit: RateLimitOptions
  /** Gives the rate limit's unused leases back; after the server has closed. */
  stop (): Promise<void>
}

/**
 * Yoga's CSRF prevention: a request a browser would send cross-site without a preflight (GET,
 * multipart, url-encoded, text/plain) must carry one of CSRF_PREVENTION_HEADERS. Its error gets
 * our code and says which header to send.
 */
function useCsrfPrevention (): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: [...CSRF_PREVENTION_HEADERS] })
  return {
    async onRequestParse (payload) {
      try {
        await csrf.onRequestParse?.(payload as never)
      } catch {
        const type = payload.request.headers.get('content-type')
        throw new GraphQLError(`a ${payload.request.method} request ${type ? `of content-type ${type} ` : 'without content-type '}` +
          `must carry a \`${CSRF_PREVENTION_HEADERS[0]}: 1\` header (CSRF prevention); JSON requests need none`, {
          extensions: { code: LIMIT_ERROR_CODE.CSRF_HEADER_MISSING, http: { status: 403 } }
        })
      }
    }
  }
}

/** The limits against hostile or broken clients (issue 5), from `config.limits`; `db` keeps the rate limit counters. */
export function createLimits (limits: LimitsConfig, db: Db, onError?: (error: Error) => void): GatewayLimits {
  const limit = limits.rateLimitPerWindow
  const windowSeconds = limits.rateLimitWindowSeconds
  const leases = limit === 0 ? undefined : new RateLimitLeases({ db, limit, windowSeconds, onError })
  const rateLimit: RateLimitOptions = { leases, limit, windowSeconds }
  return {
    plugins: [
      useCsrfPrevention(),
      useBodyLimits(limits),
      useParseAndValidationCodes(),
      ...armorPlugins(limits),
      ...(limits.introspection ? [] : [useIntrospectionOff()]),
      // Before the rate limit, so that a refused subscription or costly query costs no statement.
      useSubscriptionsOverWebSocketOnly(),
      useQueryCost(limits.maxCost),
      useRateLimit(rateLimit)
    ],
    batching: limits.batching > 0 ? { limit: limits.batching } : false,
    maxRequestBodySize: false,
    graphiql: limits.graphiql,
    requestTimeoutMs: (limits.uploadTimeoutSeconds + 60) * 1000,
    webSocket: webSocketLimits(limits),
    rateLimit,
    stop: async () => await leases?.stop()
  }
}
