import type { Plugin } from 'graphql-yoga'

/**
 * The GraphQL spans (Envelop's OpenTelemetry plugin): one per operation executed, over HTTP and
 * WebSocket, child of the HTTP request's span, with the document but never the variables (they
 * hold customers' names and addresses). Loaded only when tracing is on.
 */
export async function graphqlTracingPlugins (tracingOn: boolean): Promise<Plugin[]> {
  if (!tracingOn) return []
  const [{ useOpenTelemetry }, { trace }] = await Promise.all([import('@envelop/opentelemetry'), import('@opentelemetry/api')])
  // The registered provider, given explicitly: without one the plugin would register a console exporter of its own.
  return [useOpenTelemetry({ resolvers: false, variables: false, result: false }, trace.getTracerProvider(), undefined, undefined, 'order-ops-gateway') as Plugin]
}
