import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemoCatalog } from '../src/inventory/seed.ts'
import { createTestDatabase, testPool, type TestDatabase } from './helpers/database.ts'
import { eventually, order, type GraphQLResponse } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, spawnNode, type Child } from './helpers/processes.ts'
import { LoopbackReceiver } from './helpers/receiver.ts'

// The real entry point as a process, loaded as the npm scripts load it (`node --import ./src/otel.ts
// src/main.ts`), exporting OTLP over HTTP (JSON) to a receiver in this test: what a collector gets.

/** A span as OTLP/HTTP JSON carries it (ids in hex). */
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: Array<{ key: string, value: Record<string, unknown> }>
}

const TOKEN = 'traces-test-admin-token-0123456789abcdef'
const SPAN_KIND = { SERVER: 2, CONSUMER: 5 } as const

let receiver: LoopbackReceiver
let db: TestDatabase
let sql: pg.Pool
let child: Child
let dataDir: string
let url: string

/** Every span the receiver got so far. */
function spans (): OtlpSpan[] {
  return receiver.to('/v1/traces').flatMap(request => {
    const body = JSON.parse(request.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
    return body.resourceSpans.flatMap(resource => resource.scopeSpans.flatMap(scope => scope.spans))
  })
}

async function gql<T> (query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables })
  })
  return await response.json() as GraphQLResponse<T>
}

beforeAll(async () => {
  receiver = new LoopbackReceiver(() => ({ status: 200, body: '{}', headers: { 'content-type': 'application/json' } }))
  await receiver.start()
  db = await createTestDatabase()
  sql = testPool(db.url, 2)
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'traces-'))
  const port = await freePort()
  url = `http://127.0.0.1:${port}/graphql`
  child = spawnNode(['--import', './src/otel.ts', 'src/main.ts'], {
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_TOKEN: TOKEN,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url(''),
    OTEL_BSP_SCHEDULE_DELAY: '200'
  })
  await eventually(async () => {
    if (!isRunning(child)) throw new Error(`the process exited: ${child.stderr()}`)
    return (await fetch(`http://127.0.0.1:${port}/ready`)).ok ? true : undefined
  }, 60_000, 'the process to be ready')
  await seedDemoCatalog(sql)
}, 90_000)

afterAll(async () => {
  if (child !== undefined && isRunning(child)) {
    child.process.kill('SIGTERM')
    await child.exited
  }
  await killAll()
  await sql?.end()
  await db?.drop()
  await receiver?.stop()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

describe('traces (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('follow one order in one trace: the HTTP request, the mutation, its SQL, the placement job and every step of the chain', async () => {
    const placed = await gql<{ placeOrder: { requestItems: Array<{ status: string, orderNumber: string }> } }>(
      'mutation PlaceOne ($input: PlaceOrderInput!) { placeOrder(input: $input) { requestItems { status orderNumber } } }', { input: order() })
    const number = placed.data!.placeOrder.requestItems[0]!.orderNumber
    expect(placed.data!.placeOrder.requestItems[0]!.status).toBe('ACCEPTED')
    await eventually(async () => {
      const { data } = await gql<{ order: { status: string } | null }>('query ($n: String!) { order(number: $n) { status } }', { n: number })
      return data?.order?.status === 'COMPLETED' ? true : undefined
    }, 60_000, 'the order to complete')

    // The jobs of this order as pg-boss holds them: the placement's and every chain step's, each with the trace context it was sent in.
    const { rows: jobs } = await sql.query<{ name: string, traceparent: string | null }>(
      `SELECT j.name, j.data->>'traceparent' AS traceparent FROM pgboss.job j
        WHERE j.data->>'operationId' IN (SELECT id::text FROM operation)
           OR j.data->>'orderId' = (SELECT id::text FROM orders WHERE order_number = $1)`, [number])
    expect(jobs.some(job => job.name === 'order.place')).toBe(true)
    expect(jobs.filter(job => job.name.startsWith('order.step.')).length).toBeGreaterThanOrEqual(3)
    for (const job of jobs) expect(job.traceparent, job.name).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    const traceId = jobs[0]!.traceparent!.split('-')[1]!
    expect(new Set(jobs.map(job => job.traceparent!.split('-')[1]))).toEqual(new Set([traceId]))

    // Every job's processing exported as a span whose parent is the context its data carries.
    const trace = await eventually(async () => {
      const all = spans().filter(span => span.traceId === traceId)
      const processed = jobs.every(job => all.some(span => span.name === `${job.name} process` && span.parentSpanId === job.traceparent!.split('-')[2]))
      return processed ? all : undefined
    }, 30_000, 'every job\'s span')
    const byId = new Map(trace.map(span => [span.spanId, span]))
    const ancestors = (span: OtlpSpan): OtlpSpan[] => {
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined
      return parent === undefined ? [] : [parent, ...ancestors(parent)]
    }

    // The root: the HTTP request (instrumentation-http), then the GraphQL operation (Envelop), which sent the placement.
    const root = trace.filter(span => !span.parentSpanId)
    expect(root).toHaveLength(1)
    expect(root[0]!.kind).toBe(SPAN_KIND.SERVER)
    expect(root[0]!.name).toMatch(/^POST/)
    const mutation = trace.find(span => span.name === 'mutation.PlaceOne')!
    expect(mutation).toBeDefined()
    expect(ancestors(mutation)).toContain(root[0])
    // The acceptance's SQL (instrumentation-pg) is in the mutation's span.
    expect(trace.some(span => /^pg\.query/.test(span.name) && ancestors(span).includes(mutation))).toBe(true)

    const placement = trace.find(span => span.name === 'order.place process')!
    expect(placement.kind).toBe(SPAN_KIND.CONSUMER)
    expect(ancestors(placement)).toContain(mutation)
    // Each step descends from the placement, through the steps that made it due; each ran its own SQL.
    for (const job of jobs.filter(j => j.name.startsWith('order.step.'))) {
      const step = trace.find(span => span.name === `${job.name} process`)!
      expect(ancestors(step), job.name).toContain(placement)
      expect(trace.some(span => /^pg\.query/.test(span.name) && span.parentSpanId === step.spanId), job.name).toBe(true)
    }
  }, 120_000)

  it('give every job of a bulk of three (its placements, then each order\'s steps) a span whose parent is the context its data carries, all in the mutation\'s trace', async () => {
    // Three orders in one bulk: their placement jobs are committed together, and a worker takes them in one batch.
    const placed = await gql<{ placeOrders: { requestItems: Array<{ orderNumber: string }> } }>(
      'mutation PlaceThree ($input: [PlaceOrderInput!]!) { placeOrders(input: $input) { requestItems { orderNumber } } }', { input: [order(), order(), order()] })
    const numbers = placed.data!.placeOrders.requestItems.map(item => item.orderNumber)
    await eventually(async () => {
      const { rows } = await sql.query("SELECT count(*)::int AS n FROM orders WHERE order_number = ANY($1) AND status = 'COMPLETED'", [numbers])
      return rows[0].n === 3 ? true : undefined
    }, 60_000, 'the three orders to complete')
    const { rows: jobs } = await sql.query<{ id: string, name: string, traceparent: string }>(
      `SELECT j.id, j.name, j.data->>'traceparent' AS traceparent FROM pgboss.job j
        WHERE j.data->>'orderId' IN (SELECT id::text FROM orders WHERE order_number = ANY($1))
           OR j.id IN (SELECT o.job_id FROM operation o WHERE o.topic = 'order.place' AND o.ordering_key = ANY($1))`, [numbers])
    // A bulk smaller than a chunk: a placement job per order (src/operations/accept.ts), then a job per step.
    expect(jobs.filter(job => job.name === 'order.place')).toHaveLength(3)
    const all = await eventually(async () => {
      const got = spans()
      return jobs.every(job => got.some(span => span.name === `${job.name} process` && span.parentSpanId === job.traceparent.split('-')[2])) ? got : undefined
    }, 30_000, 'a span for every job')
    const mutation = all.find(span => span.name === 'mutation.PlaceThree')!
    expect(new Set(jobs.map(job => job.traceparent.split('-')[1]))).toEqual(new Set([mutation.traceId]))
    // Each placement's span is the child of the mutation's context, whether its batch held one job or three.
    const placements = all.filter(span => span.name === 'order.place process' && span.traceId === mutation.traceId)
    expect(placements).toHaveLength(3)
    expect(jobs.filter(job => job.name.startsWith('order.step.')).length).toBeGreaterThanOrEqual(3 * 3)
  }, 120_000)

  it('leaves out the health probes', async () => {
    await fetch(url.replace('/graphql', '/ready'))
    await gql('{ __typename }')
    await eventually(async () => spans().some(span => span.name === 'query.anonymous') ? true : undefined, 30_000, 'the query\'s span')
    const paths = spans().flatMap(span => span.attributes?.filter(a => a.key === 'url.path' || a.key === 'http.target').map(a => a.value.stringValue) ?? [])
    expect(paths).toContain('/graphql')
    expect(paths).not.toContain('/ready')
  })
})

/** What a process that imports the whole application loads of OpenTelemetry, with `env` (run through src/otel.ts as npm start does). */
async function openTelemetryLoaded (env: Record<string, string>): Promise<{ loaded: string[], on: boolean }> {
  const script = `
    import { registerHooks } from 'node:module'
    const loaded = new Set()
    registerHooks({ resolve (specifier, context, next) {
      const resolved = next(specifier, context)
      if (resolved.url.includes('/@opentelemetry/') || resolved.url.includes('/@envelop/opentelemetry/')) loaded.add(resolved.url.replace(/^.*node_modules\\//, '').split('/').slice(0, 2).join('/'))
      return resolved
    } })
    await import('./src/otel.ts')
    await import('./src/app.ts')
    const { startJobTracing } = await import('./src/platform/tracing/tracing.ts')
    const on = await startJobTracing()
    await (await import('./src/api/tracing.ts')).graphqlTracingPlugins(on)
    process.stdout.write(JSON.stringify({ loaded: [...loaded].sort(), on }))
    process.exit(0)`
  const child = spawnNode(['--input-type=module', '-e', script], { OTEL_EXPORTER_OTLP_ENDPOINT: '', ...env })
  const { code } = await child.exited
  expect(code, child.stderr()).toBe(0)
  return JSON.parse(child.stdout()) as { loaded: string[], on: boolean }
}

describe('traces off (no OTEL_EXPORTER_OTLP_ENDPOINT, no provider registered)', () => {
  it('load nothing of OpenTelemetry but the API pg-boss imports, while with the endpoint set the tracer, the instrumentations and the GraphQL plugin load', async () => {
    // pg-boss imports the OpenTelemetry API itself, always (a no-op without a provider); nothing else is loaded.
    expect(await openTelemetryLoaded({})).toEqual({ loaded: ['@opentelemetry/api'], on: false })
    const on = await openTelemetryLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/' })
    expect(on.on).toBe(true)
    expect(on.loaded).toEqual(expect.arrayContaining(['@opentelemetry/api', '@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-http', '@envelop/opentelemetry']))
  }, 60_000)
})
