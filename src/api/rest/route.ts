import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import type { Principal } from '../../access/principal.ts'
import type { RestServices } from './services.ts'

/** What a route's handler is given: the caller (authenticated, within its rate limit), its input, the services. */
export interface RestCall {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly principal: Principal
  /** The path's parameters, decoded (`{id}` → params.id). */
  readonly params: Readonly<Record<string, string>>
  /** The JSON body of a POST (undefined when empty). */
  readonly body: unknown
  /** The query string, without `?`. */
  readonly query: string
  readonly idempotencyKey: string | null
  readonly services: RestServices
}

/** A documented parameter of a route (a path parameter, or searchCriteria). */
export interface RestParameter {
  readonly name: string
  readonly in: 'path' | 'query'
  readonly description: string
  readonly schema: z.ZodType
}

/**
 * One REST route: how it is matched, what it takes and answers (the schemas the OpenAPI
 * description is generated from, and that validate the input), and its handler, which answers.
 */
export interface RestRoute {
  readonly method: 'GET' | 'POST'
  /** Below /rest or /rest/<store>, in OpenAPI's form: `/V1/bulk/{bulkUuid}/status`. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly description: string
  readonly tag: 'async' | 'bulk status'
  readonly parameters: readonly RestParameter[]
  /** The body a POST takes: validated by the handler (an array element at a time for bulk routes). */
  readonly body?: z.ZodType
  readonly answer: { readonly status: 200 | 202, readonly description: string, readonly schema: z.ZodType }
  /** Only for admins (403 for others), as GraphQL's adjustStock. */
  readonly adminOnly?: boolean
  readonly handle: (call: RestCall) => Promise<void>
}
