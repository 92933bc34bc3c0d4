import pg from 'pg'
import { toError, type Logger } from '../log.ts'

/** The channel the operation triggers NOTIFY on (migrations/0002); the payload is a bulk uuid. */
export const BULK_CHANGED_CHANNEL = 'bulk_changed'

/**
 * Fans bulk status changes out to this process's subscribers.
 *
 * Every committed change to a bulk's operations NOTIFYs its uuid, from whichever process made it.
 * One LISTEN connection per gateway receives them; for a bulk someone here watches, the current
 * state is loaded once and handed to every watcher of it, however many there are.
 *
 * No change is missed between a watcher's first snapshot and the live stream: a watcher is
 * registered before it loads its snapshot, so every change committed after that load began
 * triggers a load it receives. Loads run one at a time per bulk; changes arriving during a load
 * cause one more load after it, so watchers always end on the latest state.
 */
export class BulkStatusFeed<State extends object> {
  readonly #watchers = new Map<string, Set<Watcher<State>>>()
  readonly #loading = new Map<string, { again: boolean }>()
  readonly #connectionString: string
  readonly #load: (uuid: string) => Promise<State | null>
  readonly #log: Logger
  #client: pg.Client | undefined
  #stopped = false
  #reconnectTimer: NodeJS.Timeout | undefined

  constructor (connectionString: string, load: (uuid: string) => Promise<State | null>, log: Logger) {
    this.#connectionString = connectionString
    this.#load = load
    this.#log = log.child({ component: 'status-feed' })
  }

  async start (): Promise<void> {
    await this.#connect()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#reconnectTimer)
    for (const watchers of this.#watchers.values()) for (const watcher of watchers) watcher.close()
    await this.#client?.end().catch(() => {})
  }

  /**
   * The bulk's current state, then each new state until `isFinal` says it is final. Ends at
   * once (nothing yielded) when there is no such bulk; ends early when the caller stops reading.
   */
  async * watch (uuid: string, isFinal: (state: State) => boolean, same: (a: State, b: State) => boolean): AsyncGenerator<State> {
    const watcher = new Watcher<State>()
    let watchers = this.#watchers.get(uuid)
    if (!watchers) this.#watchers.set(uuid, watchers = new Set())
    watchers.add(watcher)
    try {
      const first = await this.#load(uuid)
      if (first === null) return
      let current: State = first
      yield current
      while (!isFinal(current)) {
        const next = await watcher.next()
        if (next === undefined) return // the feed stopped
        if (!same(current, next)) yield next
        current = next
      }
    } finally {
      watchers.delete(watcher)
      if (watchers.size === 0 && this.#watchers.get(uuid) === watchers) this.#watchers.delete(uuid)
    }
  }

  /** Number of bulks watched in this process (for tests and metrics). */
  get watchedBulks (): number {
    return this.#watchers.size
  }

  #changed (uuid: string): void {
    if (!this.#watchers.has(uuid)) return
    const inFlight = this.#loading.get(uuid)
    if (inFlight) {
      inFlight.again = true
      return
    }
    const state = { again: false }
    this.#loading.set(uuid, state)
    void this.#refresh(uuid, state)
  }

  async #refresh (uuid: string, state: { again: boolean }): Promise<void> {
    try {
      do {
        state.again = false
        // Watchers registered after this load began take their own snapshot, which is newer.
        const targets = [...(this.#watchers.get(uuid) ?? [])]
        if (targets.length === 0) break
        const loaded = await this.#load(uuid)
        if (loaded !== null) for (const watcher of targets) watcher.push(loaded)
      } while (state.again)
    } catch (error) {
      this.#log.warn('could not load a changed bulk', { uuid, error: toError(error) })
    } finally {
      this.#loading.delete(uuid)
    }
  }

  async #connect (): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, application_name: 'order-ops-gateway:status-feed', keepAlive: true })
    client.on('notification', (message) => { if (message.payload) this.#changed(message.payload) })
    client.on('error', (error) => {
      this.#log.warn('status feed connection failed; reconnecting', { error })
      this.#scheduleReconnect(client)
    })
    client.on('end', () => this.#scheduleReconnect(client))
    await client.connect()
    await client.query(`LISTEN ${BULK_CHANGED_CHANNEL}`)
    this.#client = client
  }

  #scheduleReconnect (failed: pg.Client): void {
    if (this.#stopped || this.#client !== failed) return
    this.#client = undefined
    failed.end().catch(() => {})
    const attempt = (delay: number): void => {
      this.#reconnectTimer = setTimeout(() => {
        this.#connect()
          .then(() => {
            this.#log.info('status feed reconnected')
            // Notifications sent while we were away are lost: refresh everything watched.
            for (const uuid of this.#watchers.keys()) this.#changed(uuid)
          })
          .catch(() => { if (!this.#stopped) attempt(Math.min(delay * 2, 10_000)) })
      }, delay)
    }
    attempt(250)
  }
}

/** One subscriber's mailbox: holds only the newest state, since each state supersedes the one before. */
class Watcher<State extends object> {
  #latest: State | undefined
  #waiting: ((state: State | undefined) => void) | undefined
  #closed = false

  push (state: State): void {
    if (this.#waiting) {
      const resolve = this.#waiting
      this.#waiting = undefined
      resolve(state)
    } else {
      this.#latest = state
    }
  }

  async next (): Promise<State | undefined> {
    if (this.#latest !== undefined) {
      const state = this.#latest
      this.#latest = undefined
      return state
    }
    if (this.#closed) return undefined
    return await new Promise(resolve => { this.#waiting = resolve })
  }

  close (): void {
    this.#closed = true
    this.#waiting?.(undefined)
    this.#waiting = undefined
  }
}
