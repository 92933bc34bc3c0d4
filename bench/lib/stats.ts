/** Small statistics over samples; every figure of the suite goes through these. */

/** The p-th percentile (nearest rank) of `values`; NaN when there are none. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]!
}

export function median (values: readonly number[]): number {
  return percentile(values, 50)
}

/** Milliseconds since an arbitrary origin, monotonic. */
export function now (): number {
  return performance.now()
}

export function round (value: number, digits = 0): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
