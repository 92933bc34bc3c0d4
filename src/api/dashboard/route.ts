import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HttpRoute } from '../http.ts'

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url))
// graphql-ws's browser build (its `umd/` folder, not in its exports map): found beside its package.json.
const GRAPHQL_WS_BUNDLE = path.join(path.dirname(createRequire(import.meta.url).resolve('graphql-ws/package.json')), 'umd', 'graphql-ws.min.js')

/** The files of the dashboard, read once: path → body and type. No build step, nothing from a CDN. */
const ASSETS: ReadonlyMap<string, { readonly file: string, readonly type: string }> = new Map([
  ['/dashboard', { file: path.join(PUBLIC, 'index.html'), type: 'text/html; charset=utf-8' }],
  ['/dashboard/', { file: path.join(PUBLIC, 'index.html'), type: 'text/html; charset=utf-8' }],
  ['/dashboard/app.js', { file: path.join(PUBLIC, 'app.js'), type: 'text/javascript; charset=utf-8' }],
  ['/dashboard/app.css', { file: path.join(PUBLIC, 'app.css'), type: 'text/css; charset=utf-8' }],
  ['/dashboard/graphql-ws.js', { file: GRAPHQL_WS_BUNDLE, type: 'text/javascript; charset=utf-8' }]
])

/**
 * Scripts and styles from this origin only, requests to it only (GraphQL over HTTP and WebSocket):
 * a value that slipped into the page as markup could run nothing.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

export interface DashboardOptions {
  /** `PGBOSS_DASHBOARD_URL`: where pg-boss's own dashboard runs, linked from the queues page. */
  readonly pgBossDashboardUrl: string | undefined
}

/**
 * `GET /dashboard`: the live dashboard (src/api/dashboard/public/). The page and its scripts are
 * static and hold no data; everything it shows comes from the GraphQL API with the token the user
 * enters, so it is exactly as authorized as any other client.
 */
export function dashboardRoute (options: DashboardOptions): HttpRoute {
  const bodies = new Map([...ASSETS].map(([url, asset]) => [url, { body: fs.readFileSync(asset.file), type: asset.type }]))
  const config = Buffer.from(JSON.stringify({ pgBossDashboardUrl: options.pgBossDashboardUrl ?? null }))
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0]!
    const asset = url === '/dashboard/config.json' ? { body: config, type: 'application/json' } : bodies.get(url)
    if (asset === undefined) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return true
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache'
    })
    res.end(req.method === 'HEAD' ? undefined : asset.body)
    return true
  }
}
