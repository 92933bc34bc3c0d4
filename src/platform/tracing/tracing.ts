/**
 * Traces across the queue: the W3C trace context of an accepting request travels in its jobs' data
 * (`traceparent`), and each job's processing is a span whose parent is that context, so that one
 * trace runs from the mutation through the placement and every step of the post-order chain.
 *
 * Off unless a tracer provider is registered (src/otel.ts, or another `--import` file): then this
 * module imports nothing of OpenTelemetry, and every function below is a plain call or a no-op.
 */

import type { TracedJob, TracedJobData, Tracing } from './types.ts'

export type { TracedJobData } from './types.ts'

const NONE: TracedJobData = Object.freeze({})

const OFF: Tracing = {
  current: () => NONE,
  ofJob: () => NONE,
  jobs: async (_queue, _jobs, _keyOf, work) => await work(),
  flush: async () => {}
}

let tracing: Tracing = OFF

/** OpenTelemetry's global registry (the API's `Symbol.for('opentelemetry.js.api.1')`): it has `trace` once a provider is registered. */
function providerRegistered (): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')]
  return registry?.trace !== undefined
}

/** Turns tracing on when a tracer provider has been registered; called once at start. Returns whether it is on. */
export async function startJobTracing (): Promise<boolean> {
  if (tracing === OFF && providerRegistered()) tracing = (await import('./openTelemetry.ts')).openTelemetryTracing()
  return tracing !== OFF
}

/** `{ traceparent }` of the active span, or nothing: spread into the data of a job sent now. */
export function currentTrace (): TracedJobData {
  return tracing.current()
}

/** `{ traceparent }` of the span of the job `key` names (its causation: an operation id, a chain job's id), or nothing. */
export function traceOfJob (key: string): TracedJobData {
  return tracing.ofJob(key)
}

/**
 * Wraps a pg-boss batch handler: each job's processing is a span, child of the trace its data
 * carries; `keyOf` names the job as the work refers to it later (traceOfJob).
 */
export function tracedBatch<J extends TracedJob, T> (queue: string, keysOf: (job: J) => readonly string[], handler: (jobs: J[]) => Promise<T>): (jobs: J[]) => Promise<T> {
  return async (jobs) => await tracing.jobs(queue, jobs, keysOf as (job: TracedJob) => readonly string[], async () => await handler(jobs))
}

/** Exports what is buffered; a no-op when off. */
export async function flushTraces (): Promise<void> {
  await tracing.flush()
}
