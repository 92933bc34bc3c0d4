import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { GraphQLError, type ExecutionResult } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { run, type Db } from '../../platform/db/pool.ts'
import { LIMIT_ERROR_CODE } from './codes.ts'
import { hitRateLimit, type RateLimitHit } from '../../access/sql/rateLimit.ts'

/** What the rate limit reads of an operation's context. */
export interface RateLimitContext {
  /** The authenticated caller; its key is its API token's id or its JWT's subject. */
  readonly principal?: { readonly rateLimitKey: string } | null
  /** The Node request: yoga's server context over HTTP, the upgrade request over WebSocket. */
  readonly req?: IncomingMessage
  /** The fetch Request; only HTTP operations have one. */
  readonly request?: Request
}

/**
 * The key an operation counts under: its caller's, or, without valid credentials, its client's
 * address (`ip:` keeps addresses and caller keys apart). Behind a proxy every anonymous client has
 * the proxy's address; anonymous operations are refused anyway, so that only limits how fast
 * credentials can be guessed from there.
 */
export function rateLimitKeyOf (context: RateLimitContext): string {
  const key = context.principal?.rateLimitKey ?? `ip:${context.req?.socket.remoteAddress ?? 'unknown'}`
  // A long JWT issuer and subject could pass the table's key length: keep those as a digest.
  return key.length <= 200 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`
}

export interface RateLimitOptions {
  readonly db: Db
  /** Operations one key may run per window; 0 turns the limit off. */
  readonly limit: number
  readonly windowSeconds: number
}

/** What a refused caller is told. */
export function rateLimitMessage (options: RateLimitOptions, retryAfter: number): string {
  return `rate limit of ${options.limit} operations per ${options.windowSeconds} s exceeded; try again in ${retryAfter} s`
}

/**
 * Counts one hit of `key` in PostgreSQL (src/access/sql/rateLimit.ts): the seconds the caller
 * must wait when it is over the limit, else null. A limit of 0 counts nothing.
 */
export async function overRateLimit (options: RateLimitOptions, key: string): Promise<number | null> {
  if (options.limit === 0) return null
  const [hit] = await run<RateLimitHit>(options.db, hitRateLimit(key, options.windowSeconds))
  return hit === undefined || hit.hits <= options.limit ? null : hit.retry_after
}

function rateLimited (retryAfter: number, options: RateLimitOptions, overHttp: boolean): ExecutionResult {
  return {
    errors: [new GraphQLError(
      rateLimitMessage(options, retryAfter), {
        extensions: {
          code: LIMIT_ERROR_CODE.RATE_LIMITED,
          retryAfter,
          // Yoga turns this into the status and headers of the HTTP response, and leaves it out of the body.
          ...(overHttp ? { http: { status: 429, headers: { 'Retry-After': String(retryAfter) } } } : {})
        }
      })]
  }
}

/**
 * Per-caller rate limits that hold across gateway processes: every operation (query, mutation,
 * subscription; over HTTP and WebSocket) counts one hit in PostgreSQL before it runs (one
 * statement, src/access/sql/rateLimit.ts). Over the limit the operation is not run: the answer
 * is a RATE_LIMITED error with `extensions.retryAfter` (seconds), over HTTP with status 429 and a
 * `Retry-After` header. Requests refused before execution (unparsable, invalid, over a query
 * limit) cost the gateway no database work and are not counted.
 */
export function useRateLimit (options: RateLimitOptions): Plugin {
  if (options.limit === 0) return {}
  const refusal = async (context: RateLimitContext): Promise<ExecutionResult | undefined> => {
    const retryAfter = await overRateLimit(options, rateLimitKeyOf(context))
    return retryAfter === null ? undefined : rateLimited(retryAfter, options, context.request !== undefined)
  }
  return {
    async onExecute ({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue as RateLimitContext)
      if (refused !== undefined) setResultAndStopExecution(refused)
    },
    async onSubscribe ({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue as RateLimitContext)
      if (refused !== undefined) setResultAndStopExecution(refused)
    }
  }
}
