import { register } from 'node:module'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'

/** The paths probes call every few seconds: a span each would drown the traces worth reading. */
const UNTRACED_PATHS = new Set(['/health', '/ready'])

/**
 * Starts the tracer provider (OTLP over HTTP, JSON, to OTEL_EXPORTER_OTLP_ENDPOINT; the exporter
 * reads its own OTEL_EXPORTER_OTLP_* and the batch processor its OTEL_BSP_* variables) and the
 * instrumentations of incoming HTTP requests and of pg's queries. Runs before the application is
 * imported (src/otel.ts): import-in-the-middle's hook must see `pg` and `http` load.
 */
export function startTracing (serviceName: string): void {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())]
  })
  provider.register()
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]!),
        // The gateway's own calls out (webhooks, the ERP) go through fetch, not http: nothing to trace here.
        disableOutgoingRequestInstrumentation: true
      }),
      // Only queries within a trace: pg-boss's polling, alone, would make a trace of every poll.
      new PgInstrumentation({ requireParentSpan: true })
    ]
  })
}
