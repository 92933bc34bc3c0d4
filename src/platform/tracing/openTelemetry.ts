import { AsyncLocalStorage } from 'node:async_hooks'
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import type { TracedJob, TracedJobData, Tracing } from './types.ts'

const tracer = trace.getTracer('order-ops-gateway')

/** The W3C trace context of `ctx`, as it goes into a job's data. */
function traceparentOf (ctx: Context): TracedJobData {
  const carrier: Record<string, string> = {}
  propagation.inject(ctx, carrier)
  return carrier.traceparent === undefined ? {} : { traceparent: carrier.traceparent }
}

/** The context a job's data carries (or none: the job's span then starts a trace). */
function parentOf (job: TracedJob): Context {
  const traceparent = job.data.traceparent
  return typeof traceparent === 'string' ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT
}

function fail (span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/**
 * Tracing through the OpenTelemetry API, into the registered provider. A batch of one job runs in
 * that job's span (its queries are its children); a larger batch, whose work is shared, runs in a
 * span of its own linked to every job's span, and each job's span stays in the job's own trace.
 */
export function openTelemetryTracing (): Tracing {
  const batches = new AsyncLocalStorage<ReadonlyMap<string, Span>>()
  return {
    current: () => traceparentOf(context.active()),
    ofJob: (key) => {
      const span = batches.getStore()?.get(key)
      return span === undefined ? {} : traceparentOf(trace.setSpan(ROOT_CONTEXT, span))
    },
    async jobs (queue, jobs, keysOf, work) {
      // A job's span under each key it answers to (a chunk's job: each of its operations).
      const spans = new Map<string, Span>()
      const own: Span[] = []
      for (const job of jobs) {
        const span = tracer.startSpan(`${queue} process`, {
          kind: SpanKind.CONSUMER,
          attributes: { 'messaging.system': 'pg-boss', 'messaging.operation.type': 'process', 'messaging.destination.name': queue, 'messaging.message.id': job.id, 'messaging.batch.message_count': jobs.length }
        }, parentOf(job))
        own.push(span)
        for (const key of keysOf(job)) spans.set(key, span)
      }
      const first = own[0]
      const batch = jobs.length === 1 || first === undefined
        ? first
        : tracer.startSpan(`${queue} process batch`, {
          kind: SpanKind.CONSUMER,
          root: true,
          links: own.map(span => ({ context: span.spanContext() })),
          attributes: { 'messaging.system': 'pg-boss', 'messaging.destination.name': queue, 'messaging.batch.message_count': jobs.length }
        })
      const all = batch === undefined || own.length === 1 ? own : [batch, ...own]
      try {
        const active = batch === undefined ? context.active() : trace.setSpan(ROOT_CONTEXT, batch)
        return await batches.run(spans, async () => await context.with(active, work))
      } catch (error) {
        for (const span of all) fail(span, error)
        throw error
      } finally {
        for (const span of all) span.end()
      }
    },
    async flush () {
      const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } }
      await provider.getDelegate?.().forceFlush?.()
    }
  }
}
