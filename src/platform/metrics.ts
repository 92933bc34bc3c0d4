import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The process's Prometheus metrics (prom-client), served as text on GET /metrics
 * (src/api/metricsRoute.ts). Each feature declares its own instruments beside its code
 * (src/operations/metrics.ts, src/orders/chain/metrics.ts, …) on this one registry; Node's own
 * (`process_*`, `nodejs_*`: CPU, memory, event loop lag, GC) are collected too. One registry per
 * process, as prom-client intends: a process is one gateway or worker. Names start with
 * `order_ops_`; labels take only values from fixed sets (topics, codes, steps), never ids.
 */
export const registry = new Registry()
collectDefaultMetrics({ register: registry })

/** The prefix of every metric of ours. */
export const METRIC_PREFIX = 'order_ops_'

/** A counter on the registry, named `order_ops_<name>`. */
export function counter<L extends string> (name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] })
}

/** A histogram of seconds on the registry; buckets from 5 ms to 2 min. */
export function secondsHistogram<L extends string> (name: string, help: string, labelNames: readonly L[]): Histogram<L> {
  return new Histogram({
    name: METRIC_PREFIX + name,
    help,
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry]
  })
}

/** Sets a gauge's values at a scrape: `set(labels, value)` for each series it has now. */
export type GaugeSource<L extends string> = (set: (labels: Partial<Record<L, string>>, value: number) => void) => Promise<void> | void

export interface CollectedGauge<L extends string> {
  /** Adds a source read at every scrape (a pool, pg-boss, a table); returns how to remove it. */
  add (source: GaugeSource<L>): () => void
}

/**
 * A gauge read at scrape time from the sources the composition root adds (several when tests run
 * more than one app in a process). A source that fails (the database is down) leaves its series
 * out of that scrape; the others are still served.
 */
export function collectedGauge<L extends string> (name: string, help: string, labelNames: readonly L[]): CollectedGauge<L> {
  const sources = new Set<GaugeSource<L>>()
  // eslint-disable-next-line no-new -- registered on the registry, which keeps it
  new Gauge<L>({
    name: METRIC_PREFIX + name,
    help,
    labelNames,
    registers: [registry],
    async collect () {
      this.reset()
      await Promise.all([...sources].map(async (source) => {
        try {
          await source((labels, value) => this.set(labels, value))
        } catch {
          // Left out of this scrape; /ready says why the database or the queue does not answer.
        }
      }))
    }
  })
  return {
    add (source) {
      sources.add(source)
      return () => { sources.delete(source) }
    }
  }
}

/** The text of a scrape, and its content type. */
export async function scrape (): Promise<{ contentType: string, text: string }> {
  return { contentType: registry.contentType, text: await registry.metrics() }
}
