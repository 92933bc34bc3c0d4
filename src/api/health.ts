import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readiness } from '../platform/health.ts'
import type { HttpRoute } from './http.ts'

/** The paths an orchestrator probes (Kubernetes' liveness and readiness probes, a load balancer's health check). */
export const HEALTH_PATH = Object.freeze({
  /** The process is alive and serving HTTP: 200 while it runs. */
  LIVE: '/health',
  /** The process may take work: 200 when every readiness fact holds, else 503 with the ones that do not. */
  READY: '/ready'
} as const)

const HTTP_OK = 200
const HTTP_UNAVAILABLE = 503

function answer (res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
  res.end(head ? undefined : text)
}

/**
 * `GET /health` and `GET /ready` (HEAD too), without credentials: they tell whether the process
 * runs and may take work, and nothing about orders or callers. `/ready` lists each fact with `ok`
 * or a short reason: `{"status":"not ready","checks":{"database":"no answer within 2000 ms",…}}`.
 */
export function healthRoute (readiness: Readiness): HttpRoute {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (path !== HEALTH_PATH.LIVE && path !== HEALTH_PATH.READY)) return false
    const head = req.method === 'HEAD'
    if (path === HEALTH_PATH.LIVE) {
      answer(res, HTTP_OK, { status: 'alive' }, head)
      return true
    }
    readiness.report().then(
      (report) => answer(res, report.ready ? HTTP_OK : HTTP_UNAVAILABLE, { status: report.ready ? 'ready' : 'not ready', checks: report.checks }, head),
      () => answer(res, HTTP_UNAVAILABLE, { status: 'not ready' }, head))
    return true
  }
}

export interface HealthServer {
  /** The port bound (useful with port 0). */
  readonly port: number
  close (): Promise<void>
}

/**
 * A small HTTP server with only the health routes, for a process without the gateway role
 * (`--role worker`), which has no HTTP port of its own: HEALTH_PORT; `routes` adds /metrics there. Anything else is 404.
 */
export async function startHealthServer (readiness: Readiness, port: number, host: string, routes: readonly HttpRoute[] = []): Promise<HealthServer> {
  const all = [healthRoute(readiness), ...routes]
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!all.some(route => route(req, res))) answer(res, 404, { error: 'not found: this port serves /health, /ready and /metrics only' }, req.method === 'HEAD')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  return {
    port: (server.address() as AddressInfo).port,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
