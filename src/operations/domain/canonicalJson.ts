/**
 * JSON with object keys sorted at every level, so that equal values serialize equally whatever
 * order their keys came in. `dataHash` is the SHA-256 of this form, which a client can recompute.
 */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.keys(value).sort().map(key => [key, sortKeys((value as Record<string, unknown>)[key])]))
  }
  return value
}
