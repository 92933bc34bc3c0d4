/** Helpers for the baseline processes' side of the protocol in bench/lib/child.ts. */
export function params<T> (): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}

export function ready (info: object): void {
  process.stdout.write(`ready ${JSON.stringify(info)}\n`)
}

export function result (value: object): void {
  process.stdout.write(`result ${JSON.stringify(value)}\n`)
}
