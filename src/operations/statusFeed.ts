import { Repeater, SlidingBuffer } from 'graphql-yoga'
import { ChannelFeed } from '../platform/feeds/channelFeed.ts'
import type { Logger } from '../platform/log.ts'

/** The channel the operation triggers NOTIFY on (migrations/0002); the payload is a bulk uuid. */
export const BULK_CHANGED_CHANNEL = 'bulk_changed'

/** How often watched bulks are read again even without a notification: the safety net for a lost one. */
const RESCAN_MS = 15_000
/** Wait before loading a bulk again after a load failed. */
const RETRY_LOAD_MS = 1000

interface Watcher<State> {
  deliver (state: State | null): void
}

/**
 * Fans bulk status changes out to this process's subscribers.
 *
 * Every committed change to a bulk's operations NOTIFYs its uuid, from whichever process made it.
 * One LISTEN connection per gateway receives them; for a bulk someone here watches, the current
 * state is loaded once and handed to every watcher of it, however many there are.
 *
 * Loads of one bulk run one at a time, and a change arriving during a load causes one more load
 * after it, so what a watcher receives follows commit order and ends on the latest state. A new
 * watcher registers, then asks for a load like any change: no change between its first state and
 * the live stream can be missed. A failed load is tried again; watched bulks are also read again
 * every 15 s, and all of them after the LISTEN connection comes back, since notifications sent
 * while it was away are lost.
 */
export class BulkStatusFeed<State extends object> {
  readonly #watchers = new Map<string, Set<Watcher<State>>>()
  readonly #load: (uuid: string) => Promise<State | null>
  readonly #feed: ChannelFeed

  constructor (connectionString: string, load: (uuid: string) => Promise<State | null>, log: Logger) {
    this.#load = load
    this.#feed = new ChannelFeed({
      connectionString,
      channel: BULK_CHANGED_CHANNEL,
      applicationName: 'order-ops-gateway:status-feed',
      log: log.child({ component: 'status-feed' }),
      refresh: async (uuid) => await this.#refresh(uuid),
      wants: (uuid) => this.#watchers.has(uuid),
      retryDelayMs: () => RETRY_LOAD_MS,
      maxRetries: Infinity,
      failureMessage: 'could not load a changed bulk; trying again',
      rescan: () => { for (const uuid of this.#watchers.keys()) this.#feed.changed(uuid) },
      rescanMs: RESCAN_MS
    })
  }

  async start (): Promise<void> {
    await this.#feed.start()
  }

  /** Whether its LISTEN connection is up (readiness). */
  get listening (): boolean {
    return this.#feed.listening
  }

  async stop (): Promise<void> {
    await this.#feed.stop()
    for (const watchers of this.#watchers.values()) for (const watcher of watchers) watcher.deliver(null)
  }

  /**
   * The bulk's state, then each new state, until `isFinal` says it is final (or the bulk is gone).
   * Only the newest undelivered state is kept for a slow reader: each one supersedes the one before.
   * Returning from the iterator (a client that unsubscribes or disconnects) unregisters at once.
   */
  watch (uuid: string, isFinal: (state: State) => boolean, same: (a: State, b: State) => boolean): AsyncIterable<State> {
    return new Repeater<State>(async (push, stop) => {
      let last: State | undefined
      const watcher: Watcher<State> = {
        deliver: (state) => {
          if (state === null) { stop(); return }
          if (last !== undefined && same(last, state)) return
          last = state
          void push(state)
          if (isFinal(state)) stop()
        }
      }
      let watchers = this.#watchers.get(uuid)
      if (!watchers) this.#watchers.set(uuid, watchers = new Set())
      watchers.add(watcher)
      this.#feed.changed(uuid)
      await stop
      watchers.delete(watcher)
      if (watchers.size === 0 && this.#watchers.get(uuid) === watchers) this.#watchers.delete(uuid)
    }, new SlidingBuffer(1))
  }

  /** Bulks watched in this process. */
  get watchedBulks (): number {
    return this.#watchers.size
  }

  /** Loads a bulk once for everyone who watches it now; a watcher added later asks for its own load. */
  async #refresh (uuid: string): Promise<void> {
    const targets = [...(this.#watchers.get(uuid) ?? [])]
    if (targets.length === 0) return
    const loaded = await this.#load(uuid)
    for (const watcher of targets) watcher.deliver(loaded)
  }
}
