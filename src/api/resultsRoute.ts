import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { run, type Queryable } from '../platform/db/pool.ts'
import { toError, type Logger } from '../platform/log.ts'
import { RESULTS_CONTENT_TYPE, toResultLine } from '../operations/results.ts'
import { selectBulkExists, selectExportComplete, selectResultsPage, type ResultRow } from '../operations/sql/results.ts'
import { EXPORT_CONTENT_TYPE, exportFile } from '../operations/exports.ts'
import { BULK_KIND } from '../operations/domain/kind.ts'
import type { HttpRoute } from './http.ts'
import { viewerOf } from '../access/principal.ts'
import type { Authenticate } from './auth/authenticate.ts'
import { TooManyAuthFailuresError } from './auth/failures.ts'
import { REQUEST_ERROR_CODE } from '../operations/errors.ts'
import { LIMIT_ERROR_CODE } from './security/codes.ts'
import { overRateLimit, rateLimitKeyOf, rateLimitMessage, type RateLimitOptions } from './security/rateLimit.ts'

/**
 * `/bulks/<uuid>/results.jsonl` (src/operations/results.ts builds the links to it) and
 * `/bulks/<uuid>/export.jsonl` (an export bulk's file: src/operations/exports.ts).
 */
const RESULTS_ROUTE = /^\/bulks\/([^/]+)\/(results|export)\.jsonl$/
/** The status of an export's file that is still being written. */
const EXPORT_NOT_READY = 'EXPORT_NOT_READY'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface ResultsRouteOptions {
  readonly db: Queryable
  readonly log: Logger
  /** The caller of a request (its Authorization header, from its client's address), or null. */
  readonly authenticate: Authenticate
  /** Operations read per query, default 1000: memory stays bounded by one page whatever the bulk's size. */
  readonly pageSize?: number
  /** The per-caller rate limit GraphQL operations count under: a download counts one hit. */
  readonly rateLimit?: RateLimitOptions
  /** EXPORT_DIR, where export bulks' files are (none: export files are not served). */
  readonly exportDir?: string
}

/**
 * `GET /bulks/:uuid/results.jsonl`: a bulk's results file (src/operations/results.ts), streamed from
 * PostgreSQL a page at a time (keyset on request_index), written as the client reads: a page is
 * read only once the previous one has been taken by the socket, so a slow client holds no
 * connection and no more than a page in memory. 404 for an unknown or malformed uuid.
 *
 * While the bulk is in progress each line shows its operation as it was when its page was read;
 * once the bulk has finished the file no longer changes.
 *
 * Only for the bulk's owner (or an admin), with the same credentials as GraphQL: 401 without
 * them (429 for a client over the failed-authentication limit), and another owner's bulk is a 404
 * like a missing one. Each authenticated request counts one
 * hit of the caller's rate limit, found or not (so uuids cannot be guessed faster than the limit);
 * over it, 429 with Retry-After.
 */
export function resultsRoute (options: ResultsRouteOptions): HttpRoute {
  const pageSize = options.pageSize ?? 1000
  const log = options.log.child({ component: 'results' })
  return (req, res) => {
    const match = RESULTS_ROUTE.exec((req.url ?? '/').split('?')[0]!)
    if (!match) return false
    const file = match[2] === 'export' ? serveExport : serve
    file(req, res, match[1]!, options, pageSize).catch((error: unknown) => {
      log.warn('results file failed', { url: req.url, error: toError(error) })
      if (!res.headersSent) {
        answer(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.')
      } else {
        // The status has gone out: cutting the connection is the only way to say the file is incomplete.
        res.destroy()
      }
    })
    return true
  }
}

/**
 * What both files ask first: GET or HEAD, credentials, the rate limit, and a bulk of this uuid the
 * caller may see. Answers the bulk's kind, or null when the answer has been sent.
 */
async function admit (req: IncomingMessage, res: ServerResponse, uuid: string, options: ResultsRouteOptions): Promise<{ kind: string } | null> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    answer(res, 405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed here; use GET`)
    return null
  }
  let principal
  try {
    principal = await options.authenticate(req.headers.authorization ?? null, req.socket.remoteAddress)
  } catch (error) {
    if (!(error instanceof TooManyAuthFailuresError)) throw error
    res.setHeader('retry-after', String(error.retryAfter))
    answer(res, 429, LIMIT_ERROR_CODE.RATE_LIMITED, error.message)
    return null
  }
  if (principal === null) {
    res.setHeader('www-authenticate', 'Bearer')
    answer(res, 401, REQUEST_ERROR_CODE.UNAUTHENTICATED, 'authentication required: send `Authorization: Bearer <token>`')
    return null
  }
  const retryAfter = options.rateLimit === undefined ? null : await overRateLimit(options.rateLimit, rateLimitKeyOf({ principal, req }))
  if (retryAfter !== null) {
    res.setHeader('retry-after', String(retryAfter))
    answer(res, 429, LIMIT_ERROR_CODE.RATE_LIMITED, rateLimitMessage(options.rateLimit!, retryAfter))
    return null
  }
  const [bulk] = UUID.test(uuid) ? await run<{ kind: string }>(options.db, selectBulkExists(uuid, viewerOf(principal).owner)) : []
  if (bulk === undefined) {
    answer(res, 404, REQUEST_ERROR_CODE.NOT_FOUND, `no bulk ${uuid}`)
    return null
  }
  return bulk
}

async function serve (req: IncomingMessage, res: ServerResponse, uuid: string, options: ResultsRouteOptions, pageSize: number): Promise<void> {
  const db = options.db
  if (await admit(req, res, uuid, options) === null) return
  res.writeHead(200, {
    'content-type': RESULTS_CONTENT_TYPE,
    'content-disposition': `inline; filename="${uuid}.jsonl"`,
    // It changes until the bulk has finished.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff'
  })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  let after = -1
  while (!res.destroyed) {
    const rows = await run<ResultRow>(db, selectResultsPage(uuid, after, pageSize))
    if (rows.length > 0) {
      const text = rows.map(row => JSON.stringify(toResultLine(row)) + '\n').join('')
      if (!res.write(text)) await drained(res)
      after = rows.at(-1)!.request_index
    }
    if (rows.length < pageSize) break
  }
  res.end()
}

/**
 * An export bulk's file, once its export has finished: 404 for a bulk that is no export (or whose
 * file retention removed), 409 EXPORT_NOT_READY while it is being written. Streamed from the disk
 * at the pace the client reads (pipeline's backpressure).
 */
async function serveExport (req: IncomingMessage, res: ServerResponse, uuid: string, options: ResultsRouteOptions): Promise<void> {
  const bulk = await admit(req, res, uuid, options)
  if (bulk === null) return
  if (bulk.kind !== BULK_KIND.EXPORT || options.exportDir === undefined) {
    answer(res, 404, REQUEST_ERROR_CODE.NOT_FOUND, `bulk ${uuid} is not an export`)
    return
  }
  const [state] = await run<{ complete: boolean }>(options.db, selectExportComplete(uuid))
  if (state?.complete !== true) {
    answer(res, 409, EXPORT_NOT_READY, `the export of bulk ${uuid} has not finished; its file is served once bulk.export.url is set`)
    return
  }
  const path = exportFile(options.exportDir, uuid)
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    answer(res, 404, REQUEST_ERROR_CODE.NOT_FOUND, `the file of export ${uuid} is gone`)
    return
  }
  res.writeHead(200, {
    'content-type': EXPORT_CONTENT_TYPE,
    'content-length': String(size),
    'content-disposition': `attachment; filename="${uuid}.jsonl"`,
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff'
  })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  await pipeline(createReadStream(path), res)
}

/** Resolves when the socket has taken what was written, or the client has gone. */
async function drained (res: ServerResponse): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

function answer (res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify({ error: { code, message } }))
}
