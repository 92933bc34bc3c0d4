/**
 * Tracing's entry point, loaded before the application: `node --import ./src/otel.ts src/main.ts`
 * (the npm scripts and the container image do). With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, it starts OpenTelemetry's tracer, exporting OTLP over
 * HTTP, and instruments `http` and `pg` before they are loaded; unset, it imports nothing at all.
 * Another `--import` file that registers its own tracer provider works as well: the application
 * traces into whichever provider is registered (docs/operations.md, "Traces").
 */
const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
if (endpoint && process.env.OTEL_SDK_DISABLED !== 'true') {
  const { startTracing } = await import('./platform/tracing/sdk.ts')
  startTracing(process.env.OTEL_SERVICE_NAME?.trim() || 'order-ops-gateway')
}
