import type { IncomingMessage, ServerResponse } from 'node:http'
import { getOperationAST } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { usePrometheus } from '@graphql-yoga/plugin-prometheus'
import { credentialOf, type Principal } from '../access/principal.ts'
import type { Logger } from '../platform/log.ts'
import { registry } from '../platform/metrics.ts'
import { Gauge } from 'prom-client'

const activeSubscriptions = new Gauge({
  name: 'order_ops_subscriptions_active',
  help: 'GraphQL subscriptions running in this gateway, by transport (graphql-ws) and root field',
  labelNames: ['transport', 'field'],
  registers: [registry]
})

/**
 * Counts subscriptions while they run: up when a subscription's stream starts, down when it ends
 * (completed, or the client stopped it or went away). Subscriptions are served over WebSocket
 * only (useSubscriptionsOverWebSocketOnly), so the transport is `graphql-ws` unless one over HTTP
 * got through.
 */
function useSubscriptionMetrics (): Plugin {
  return {
    onSubscribe ({ args }) {
      const field = getOperationAST(args.document, args.operationName)?.selectionSet.selections
        .map(selection => selection.kind === 'Field' ? selection.name.value : '').find(name => name !== '') ?? 'unknown'
      const transport = (args.contextValue as { request?: Request }).request === undefined ? 'graphql-ws' : 'http'
      return {
        onSubscribeResult ({ result }) {
          if (!(Symbol.asyncIterator in result)) return
          activeSubscriptions.inc({ transport, field })
          return { onEnd: () => { activeSubscriptions.dec({ transport, field }) } }
        }
      }
    }
  }
}

/**
 * The GraphQL metrics: yoga's Prometheus plugin (request counts, durations of the whole request
 * and of parse, validate, execute and subscribe, errors by phase, labelled with the operation's name
 * and type) and the subscriptions gauge. The plugin's own /metrics endpoint is off: metricsRoute serves
 * the registry, with its access rule.
 */
export function metricsPlugins (): Plugin[] {
  return [
    usePrometheus({
      registry,
      endpoint: false,
      metrics: {
        graphql_envelop_request: true,
        graphql_envelop_request_duration: true,
        graphql_envelop_phase_parse: true,
        graphql_envelop_phase_validate: true,
        graphql_envelop_phase_execute: true,
        graphql_envelop_phase_subscribe: true,
        graphql_envelop_error_result: true,
        graphql_yoga_http_duration: true
      },
      labels: { method: true, statusCode: true, url: false }
    }),
    useSubscriptionMetrics()
  ]
}

/** Paths whose request lines are logged at debug: health probes and metric scrapes. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics'])

/** How a request is logged once answered: what the GraphQL layer learnt of it. */
interface RequestFacts {
  operationName?: string
  caller?: string
  owner?: string
}

/**
 * One log line per HTTP request, once its response has gone (or the client has gone): method,
 * path (never the query string, which may carry a query's variables), status, duration, the
 * GraphQL operation's name (or its type and first root field when it has none) and the caller's
 * owner and credential id (`token:<id>` or `jwt:<subject>`), never a token.
 */
export function createRequestLog (log: Logger) {
  const facts = new WeakMap<IncomingMessage, RequestFacts>()
  const learn: Plugin = {
    onExecute ({ args }) {
      const context = args.contextValue as { req?: IncomingMessage, request?: Request, principal?: Principal | null }
      if (context.req === undefined || context.request === undefined) return // over WebSocket: no request line
      const operation = getOperationAST(args.document, args.operationName)
      const firstField = operation?.selectionSet.selections.find(selection => selection.kind === 'Field')
      const name = operation?.name?.value ?? (operation ? `${operation.operation} ${firstField?.kind === 'Field' ? firstField.name.value : ''}`.trim() : undefined)
      const known = facts.get(context.req) ?? {}
      known.operationName = known.operationName === undefined ? name : `${known.operationName},${name}`
      if (context.principal) {
        known.owner = context.principal.owner
        known.caller = credentialOf(context.principal)
      }
      facts.set(context.req, known)
    }
  }
  const wrap = (handler: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now()
    // Read now: once the response has closed, the request may have let go of its socket (a body refused before it was read).
    const remoteAddress = req.socket.remoteAddress
    res.once('close', () => {
      const known = facts.get(req)
      const path = (req.url ?? '/').split('?')[0]!
      // Probes and scrapes come every few seconds: at debug, so that they do not drown the rest.
      log[QUIET_PATHS.has(path) ? 'debug' : 'info']('request', {
        method: req.method,
        path,
        status: res.writableFinished ? res.statusCode : undefined,
        aborted: res.writableFinished ? undefined : true,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        operationName: known?.operationName,
        owner: known?.owner,
        caller: known?.caller,
        remoteAddress
      })
    })
    handler(req, res)
  }
  return { plugin: learn, wrap }
}
