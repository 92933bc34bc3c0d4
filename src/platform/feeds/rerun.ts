export interface RerunOptions {
  /** Delay before attempt `attempt` (1, 2, …) after a failed run. */
  readonly retryDelayMs: (attempt: number) => number
  /** Failed runs of one key tried again at most this many times in a row (Infinity: until it works). */
  readonly maxRetries: number
  /** Told of each failed run, with the retry that follows (undefined when it gives up). */
  readonly onError: (key: string, error: unknown, retry: number | undefined) => void
}

/**
 * Runs `work(key)` one run at a time per key. A request while a run is under way causes one more
 * run after it (however many requests came), so the last run always starts after the last
 * request: used to react to NOTIFY bulk_changed, where only the latest state matters. A failed
 * run is retried after a delay, since a change whose notification has passed would bring nothing.
 */
export class KeyedRerun {
  readonly #work: (key: string) => Promise<void>
  readonly #options: RerunOptions
  readonly #pending = new Map<string, { again: boolean }>()
  readonly #running = new Set<Promise<void>>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #stopped = false

  constructor (work: (key: string) => Promise<void>, options: RerunOptions) {
    this.#work = work
    this.#options = options
  }

  request (key: string, retry = 0): void {
    if (this.#stopped) return
    const inFlight = this.#pending.get(key)
    if (inFlight) {
      inFlight.again = true
      return
    }
    const state = { again: true }
    this.#pending.set(key, state)
    const running = this.#run(key, state, retry)
    this.#running.add(running)
    void running.finally(() => this.#running.delete(running))
  }

  /** Runs no more, and resolves when the runs under way have ended. */
  async stop (): Promise<void> {
    this.#stopped = true
    for (const timer of this.#timers) clearTimeout(timer)
    await Promise.allSettled([...this.#running])
  }

  async #run (key: string, state: { again: boolean }, retry: number): Promise<void> {
    try {
      while (state.again && !this.#stopped) {
        state.again = false
        await this.#work(key)
      }
    } catch (error) {
      const next = retry < this.#options.maxRetries && !this.#stopped ? retry + 1 : undefined
      this.#options.onError(key, error, next)
      if (next !== undefined) {
        const timer = setTimeout(() => {
          this.#timers.delete(timer)
          this.request(key, next)
        }, this.#options.retryDelayMs(next))
        this.#timers.add(timer)
      }
    } finally {
      this.#pending.delete(key)
    }
  }
}
