/**
 * Runs work for one key at a time within this process (work for other keys runs alongside). Two
 * calls with the same idempotency key racing in one process (a job expired and picked up again
 * while its first attempt still runs) then see each other's effect instead of both doing it.
 */
export function keyedSerializer (): <T> (key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>()
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve()
    const result = before.then(work, work)
    const tail = result.catch(() => {})
    tails.set(key, tail)
    try {
      return await result
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}
