import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { getOperationAST, GraphQLError, Kind, OperationTypeNode, type DocumentNode, type ExecutionArgs, type ExecutionResult, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { LIMIT_ERROR_CODE } from './codes.ts'
import { rateLimitRefusals } from './refusals.ts'
import type { RateLimitLeases } from '../../access/rateLimitLeases.ts'

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
  /** Where hits are counted: leases granted by PostgreSQL, spent from memory; none when the limit is off. */
  readonly leases: RateLimitLeases | undefined
  /** Operations one key may run per window; 0 turns the limit off. */
  readonly limit: number
  readonly windowSeconds: number
}

/** What a refused caller is told. */
export function rateLimitMessage (options: RateLimitOptions, retryAfter: number): string {
  return `rate limit of ${options.limit} operations per ${options.windowSeconds} s exceeded; try again in ${retryAfter} s`
}

/**
 * Counts `hits` hits of `key` (src/access/rateLimitLeases.ts): the seconds the caller must wait
 * when it is over the limit, else null. A limit of 0 counts nothing.
 */
export async function overRateLimit (options: RateLimitOptions, key: string, hits = 1): Promise<number | null> {
  if (options.leases === undefined) return null
  const retryAfter = await options.leases.take(key, hits)
  if (retryAfter !== null) rateLimitRefusals.inc({ limit: 'requests' })
  return retryAfter
}

/**
 * The hits an operation counts (issue #12, item 8): a mutation one per root field it runs, aliases
 * included, so that fifteen `placeOrders` in one request count as fifteen requests would, each
 * a bulk of up to MAX_BULK_SIZE; any other operation one. Fields are told apart by their response
 * key, as GraphQL merges those that share one.
 */
function hitsOf (document: DocumentNode, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName)
  if (operation?.operation !== OperationTypeNode.MUTATION) return 1
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
  const keys = new Set<string>()
  const spread = new Set<string>()
  const sets: SelectionSetNode[] = [operation.selectionSet]
  while (sets.length > 0) {
    for (const selection of sets.pop()!.selections) {
      if (selection.kind === Kind.FIELD) keys.add(selection.alias?.value ?? selection.name.value)
      else if (selection.kind === Kind.INLINE_FRAGMENT) sets.push(selection.selectionSet)
      else if (!spread.has(selection.name.value) && fragments.has(selection.name.value)) {
        spread.add(selection.name.value)
        sets.push(fragments.get(selection.name.value)!.selectionSet)
      }
    }
  }
  return Math.max(1, keys.size)
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
 * subscription; over HTTP and WebSocket) counts its hits before it runs, from a lease PostgreSQL
 * granted (src/access/rateLimitLeases.ts; a statement only when the lease is spent): one, or a
 * mutation one per root field (hitsOf). Over the limit the operation is not run: the answer
 * is a RATE_LIMITED error with `extensions.retryAfter` (seconds), over HTTP with status 429 and a
 * `Retry-After` header. Requests refused before execution (unparsable, invalid, over a query
 * limit) cost the gateway no database work and are not counted.
 */
export function useRateLimit (options: RateLimitOptions): Plugin {
  const leases = options.leases
  if (leases === undefined) return {}
  // Synchronous while the lease pays, so that most operations do not even wait a tick.
  const check = (args: ExecutionArgs, stop: (result: ExecutionResult) => void): Promise<void> | undefined => {
    const context = args.contextValue as RateLimitContext
    const answer = (retryAfter: number | null): void => {
      if (retryAfter !== null) stop(rateLimited(retryAfter, options, context.request !== undefined))
    }
    const taken = leases.take(rateLimitKeyOf(context), hitsOf(args.document, args.operationName))
    if (taken instanceof Promise) return taken.then(answer)
    answer(taken)
    return undefined
  }
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution)
  }
}
