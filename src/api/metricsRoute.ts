import { createHash, timingSafeEqual } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { scrape } from '../platform/metrics.ts'
import type { HttpRoute } from './http.ts'

/** Where Prometheus scrapes: on PORT (gateways) and on HEALTH_PORT (any process that sets it). */
export const METRICS_PATH = '/metrics'

function refuse (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers })
  res.end(message + '\n')
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/**
 * `GET /metrics`: the process's metrics in Prometheus's text format. With `token` (METRICS_TOKEN)
 * it requires `Authorization: Bearer <token>` (401 otherwise); without, it answers only clients on
 * the loopback interface (403 otherwise), so that a gateway listening on 0.0.0.0 does not show its
 * queues and callers' traffic to the world. Behind a reverse proxy on the same host every client
 * looks local: set METRICS_TOKEN there, or do not route /metrics.
 */
export function metricsRoute (token: string | undefined): HttpRoute {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`)
  return (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    if (expected !== undefined) {
      // Digests of equal length, compared in constant time: the answer's timing says nothing of the token.
      if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
        refuse(res, 401, 'send METRICS_TOKEN as `Authorization: Bearer <token>`', { 'www-authenticate': 'Bearer' })
        return true
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      refuse(res, 403, '/metrics answers local clients only unless METRICS_TOKEN is set (docs/operations.md#metrics)')
      return true
    }
    scrape().then(
      ({ contentType, text }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : text)
      },
      (error: Error) => refuse(res, 500, `metrics could not be collected: ${error.message}`))
    return true
  }
}
