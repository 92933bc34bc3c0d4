/**
 * The suite's knobs, read once from the environment by bench/run.ts. The defaults finish the whole
 * suite in about 10 minutes on a 2-core machine; raise them for steadier figures.
 */
export interface BenchSettings {
  /** `DATABASE_URL`: a server where the suite may CREATE DATABASE; unset: an embedded PostgreSQL. */
  readonly databaseUrl: string | undefined
  /** `BENCH_REPEATS` (3): measured runs of each scenario after its warm-up; the median is reported. */
  readonly repeats: number
  /** `BENCH_SCENARIOS` (all): comma-separated names to run, e.g. `latency,subscriptions`. */
  readonly scenarios: readonly string[] | undefined
  /** `BENCH_BULK_ORDERS` (20000): orders of the bulk accept scenario, sent as 1,000-order bulks. */
  readonly bulkOrders: number
  /** `BENCH_SINGLE_SECONDS` (8): length of each single accept run. */
  readonly singleSeconds: number
  /** `BENCH_CONNECTIONS` (16): connections of the single accept scenario (and callers of its baseline). */
  readonly connections: number
  /** `BENCH_BACKLOG` (50000): operations of the processing backlog. */
  readonly backlog: number
  /** `BENCH_LATENCY_SAMPLES` (350): orders placed one at a time in the latency scenario, per run; the runs' samples are pooled (1,050 by default). */
  readonly latencySamples: number
  /** `BENCH_SUBSCRIBERS` (1000): graphql-ws subscribers of the subscriptions scenario. */
  readonly subscribers: number
  /** `BENCH_SUBSCRIPTION_ROUNDS` (10): status changes per run of the subscriptions scenario. */
  readonly subscriptionRounds: number
  /** `BENCH_SCALE_ORDERS` (100000): size of the bulk of the status at scale and memory scenarios. */
  readonly scaleOrders: number
  /** `BENCH_STATISTICS_JOBS` (20000): backlog of the planner statistics scenario. */
  readonly statisticsJobs: number
  /** `BENCH_SCALEOUT_ORDERS` (20000): orders accepted, then processed, by 1+1 and by 2+2 processes. */
  readonly scaleOutOrders: number
  /** `BENCH_CHAIN_ORDERS` (2000): orders taken through the whole post-order chain per run of the full chain scenario. */
  readonly chainOrders: number
  /**
   * `BENCH_SCALING_SIZES` (1000,10000,100000): the bulk sizes of the scaling scenario, each one JSONL
   * upload then placed; the 100,000 run takes a minute or two, leave it out (`1000,10000`) for a short run.
   * The smallest also goes through the post-order chain; the two largest give the memory row.
   */
  readonly scalingSizes: readonly number[]
  /** `BENCH_SCALING_CHAIN` (1): 0 leaves the post-order chain of the smallest size out (it runs at tens of orders/s on 2 cores). */
  readonly scalingChain: boolean
  /** `BENCH_INSERT_BULKS` (30): 1,000-operation bulks each variant of the insert costs scenario writes, after a warm-up of 3. */
  readonly insertBulks: number
}

export function readSettings (env: NodeJS.ProcessEnv): BenchSettings {
  const int = (name: string, fallback: number, min = 1): number => {
    const raw = env[name]?.trim()
    if (!raw) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}, got "${raw}"`)
    return value
  }
  const sizes = (name: string, fallback: readonly number[]): readonly number[] => {
    const raw = env[name]?.trim()
    if (!raw) return fallback
    const values = raw.split(',').map(value => Number(value.trim()))
    if (values.some(value => !Number.isInteger(value) || value < 100)) throw new Error(`${name} must be comma-separated integers of at least 100, got "${raw}"`)
    return [...new Set(values)].sort((a, b) => a - b)
  }
  const names = env.BENCH_SCENARIOS?.trim()
  return Object.freeze({
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    repeats: int('BENCH_REPEATS', 3),
    scenarios: names ? names.split(',').map(name => name.trim()).filter(Boolean) : undefined,
    bulkOrders: int('BENCH_BULK_ORDERS', 20_000, 1000),
    singleSeconds: int('BENCH_SINGLE_SECONDS', 8),
    connections: int('BENCH_CONNECTIONS', 16),
    backlog: int('BENCH_BACKLOG', 50_000, 1000),
    latencySamples: int('BENCH_LATENCY_SAMPLES', 350),
    subscribers: int('BENCH_SUBSCRIBERS', 1000),
    subscriptionRounds: int('BENCH_SUBSCRIPTION_ROUNDS', 10),
    scaleOrders: int('BENCH_SCALE_ORDERS', 100_000, 1000),
    statisticsJobs: int('BENCH_STATISTICS_JOBS', 20_000, 1000),
    scaleOutOrders: int('BENCH_SCALEOUT_ORDERS', 20_000, 1000),
    chainOrders: int('BENCH_CHAIN_ORDERS', 2000, 100),
    scalingSizes: sizes('BENCH_SCALING_SIZES', [1000, 10_000, 100_000]),
    scalingChain: int('BENCH_SCALING_CHAIN', 1, 0) !== 0,
    insertBulks: int('BENCH_INSERT_BULKS', 30)
  })
}
