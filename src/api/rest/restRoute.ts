import type { IncomingMessage, ServerResponse } from 'node:http'
import { ROLE, type Principal } from '../../access/principal.ts'
import { toError, type Logger } from '../../platform/log.ts'
import type { Authenticate } from '../auth/authenticate.ts'
import { TooManyAuthFailuresError } from '../auth/failures.ts'
import type { HttpRoute } from '../http.ts'
import { idempotencyKeySchema } from '../idempotencyKey.ts'
import { overRateLimit, rateLimitKeyOf, rateLimitMessage, type RateLimitOptions } from '../security/rateLimit.ts'
import { readJsonBody } from './body.ts'
import { REST_STATUS, RestError, sendJson } from './errors.ts'
import { openApiDocument } from './openapi.ts'
import type { RestRoute } from './route.ts'
import { REST_ROUTES } from './routes.ts'
import type { RestServices } from './services.ts'

export interface RestRouteOptions {
  readonly services: RestServices
  readonly log: Logger
  readonly authenticate: Authenticate
  /** The per-caller rate limit GraphQL operations count under: each request counts one hit. */
  readonly rateLimit?: RateLimitOptions
  /** MAX_BODY_BYTES: the largest body a request may carry (413 beyond). */
  readonly maxBodyBytes: number
}

/** Where the OpenAPI description of the routes is served, without credentials. */
export const OPENAPI_PATH = '/rest/openapi.json'

/** A store code (`/rest/default/…`, `/rest/all/…`): accepted and ignored, the gateway has one store. */
const STORE_CODE = /^[A-Za-z0-9_]{1,64}$/

interface CompiledRoute { readonly route: RestRoute, readonly pattern: RegExp, readonly names: readonly string[] }

function compile (route: RestRoute): CompiledRoute {
  const names: string[] = []
  const source = route.path.split('/').map(segment => {
    const name = /^\{(\w+)\}$/.exec(segment)?.[1]
    if (name === undefined) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    names.push(name)
    return '([^/]+)'
  }).join('/')
  return { route, pattern: new RegExp(`^${source}$`), names }
}

/** The path below /rest, without a store code: `/rest/default/V1/bulk` → `/V1/bulk`. */
function routePath (pathname: string): string {
  const rest = pathname.slice('/rest'.length)
  const [, first, ...others] = rest.split('/')
  return first !== undefined && first !== 'V1' && first !== 'async' && STORE_CODE.test(first) ? '/' + others.join('/') : rest
}

function matchRoute (routes: readonly CompiledRoute[], method: string, path: string): { route: RestRoute, params: Record<string, string> } {
  let allowed: string[] = []
  for (const { route, pattern, names } of routes) {
    const match = pattern.exec(path)
    if (match === null) continue
    if (route.method !== method) {
      allowed = [...allowed, route.method]
      continue
    }
    const params: Record<string, string> = {}
    try {
      names.forEach((name, i) => { params[name] = decodeURIComponent(match[i + 1]!) })
    } catch {
      break // a malformed escape matches no route
    }
    return { route, params }
  }
  if (allowed.length > 0) {
    throw new RestError(REST_STATUS.METHOD_NOT_ALLOWED, '%method is not allowed here; use %allowed', { method, allowed: allowed.join(', ') }, { allow: allowed.join(', ') })
  }
  throw new RestError(REST_STATUS.NOT_FOUND, 'Request does not match any route.')
}

/** The caller, within its rate limit and allowed on the route; a refusal otherwise (before the body is read). */
async function admit (req: IncomingMessage, route: RestRoute, options: RestRouteOptions): Promise<Principal> {
  let principal: Principal | null
  try {
    principal = await options.authenticate(req.headers.authorization ?? null, req.socket.remoteAddress)
  } catch (error) {
    // Too many failed authentications from this address: refused before any look-up, as over GraphQL.
    if (!(error instanceof TooManyAuthFailuresError)) throw error
    throw new RestError(REST_STATUS.TOO_MANY_REQUESTS, error.message, [], { 'retry-after': String(error.retryAfter) })
  }
  if (principal === null) {
    throw new RestError(REST_STATUS.UNAUTHORIZED, 'authentication required: send an API token or a JWT as `Authorization: Bearer <token>`', [],
      { 'www-authenticate': 'Bearer' })
  }
  const retryAfter = options.rateLimit === undefined ? null : await overRateLimit(options.rateLimit, rateLimitKeyOf({ principal, req }))
  if (retryAfter !== null) {
    throw new RestError(REST_STATUS.TOO_MANY_REQUESTS, rateLimitMessage(options.rateLimit!, retryAfter), [], { 'retry-after': String(retryAfter) })
  }
  if (route.adminOnly === true && principal.role !== ROLE.ADMIN) {
    throw new RestError(REST_STATUS.FORBIDDEN, "The consumer isn't authorized to access %resources.", { resources: `${route.method} ${route.path} (admins only)` })
  }
  return principal
}

function idempotencyKeyOf (req: IncomingMessage): string | null {
  const key = req.headers['idempotency-key']
  if (key === undefined) return null
  if (typeof key !== 'string' || !idempotencyKeySchema.safeParse(key).success) {
    throw new RestError(REST_STATUS.BAD_REQUEST, 'the Idempotency-Key header must be 1 to 255 printable ASCII characters')
  }
  return key
}

/**
 * Magento's asynchronous and bulk REST API beside GraphQL (docs/magento-rest.md): every path
 * under /rest. The same credentials, owner scoping, rate limit, body limit and error policy as
 * GraphQL: 401 before a body is read, 429 over the rate limit (each request counts one hit), 413
 * over MAX_BODY_BYTES, Magento's `{ message, parameters }` for every refusal, and unexpected
 * errors logged and answered as a 500 that says nothing of them.
 */
export function restRoute (options: RestRouteOptions): HttpRoute {
  const log = options.log.child({ component: 'rest' })
  const routes = REST_ROUTES.map(compile)
  const openApi = JSON.stringify(openApiDocument(REST_ROUTES))
  return (req, res) => {
    const url = req.url ?? '/'
    const at = url.indexOf('?')
    const pathname = at < 0 ? url : url.slice(0, at)
    const query = at < 0 ? '' : url.slice(at + 1)
    if (pathname !== '/rest' && !pathname.startsWith('/rest/')) return false
    serve(req, res, pathname, query).catch((error: unknown) => {
      if (res.headersSent) {
        log.warn('REST answer failed after it began', { url: req.url, error: toError(error) })
        res.destroy() // the status has gone out: cutting the connection says the answer is incomplete
      } else if (error instanceof RestError) {
        sendJson(res, error.status, error.body, error.headers)
      } else {
        log.error('REST request failed', { url: req.url, error: toError(error) })
        sendJson(res, REST_STATUS.INTERNAL_ERROR, { message: 'Internal Error. Details are in the gateway log.', parameters: [] })
      }
    })
    return true
  }

  async function serve (req: IncomingMessage, res: ServerResponse, pathname: string, query: string): Promise<void> {
    const method = req.method ?? 'GET'
    if (pathname === OPENAPI_PATH) {
      if (method !== 'GET') throw new RestError(REST_STATUS.METHOD_NOT_ALLOWED, '%method is not allowed here; use GET', { method }, { allow: 'GET' })
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      res.end(openApi)
      return
    }
    const { route, params } = matchRoute(routes, method, routePath(pathname))
    const principal = await admit(req, route, options)
    const idempotencyKey = idempotencyKeyOf(req)
    const body = method === 'POST' ? await readJsonBody(req, options.maxBodyBytes) : undefined
    await route.handle({ req, res, principal, params, body, query, idempotencyKey, services: options.services })
  }
}
