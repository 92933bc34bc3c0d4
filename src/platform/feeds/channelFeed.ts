import { ChannelListener } from '../db/listener.ts'
import { toError, type Logger } from '../log.ts'
import { KeyedRerun } from './rerun.ts'

export interface ChannelFeedOptions {
  readonly connectionString: string
  /** The channel whose NOTIFY payload is a key (a bulk uuid, an order id); from our own constants. */
  readonly channel: string
  readonly applicationName: string
  readonly log: Logger
  /** The work for one changed key: runs of a key one at a time, one more after changes during a run. */
  readonly refresh: (key: string) => Promise<void>
  /** Whether a change of `key` concerns this process (someone here watches it); default every key. */
  readonly wants?: (key: string) => boolean
  /** Delay before retry `attempt` (1, 2, …) of a failed refresh, and how many retries in a row. */
  readonly retryDelayMs: (attempt: number) => number
  readonly maxRetries: number
  /** What the log says of a failed refresh. */
  readonly failureMessage: string
  /**
   * Catching up: run after the LISTEN connection came back (notifications sent while it was away
   * are lost) and every `rescanMs`, such as asking for a refresh of every watched key.
   */
  readonly rescan: () => void | Promise<void>
  /** How often `rescan` runs even without a reconnect, the safety net for a lost notification; default only on reconnect. */
  readonly rescanMs?: number
}

/**
 * The skeleton every NOTIFY-driven reader here shares (the bulkStatus and orderProgress feeds, the
 * webhooks' finish watcher): one LISTEN connection that comes back by itself, a refresh per
 * changed key run one at a time per key (KeyedRerun: the last refresh starts after the last
 * notification) and retried when it fails, and a rescan after a reconnect and on a timer.
 */
export class ChannelFeed {
  readonly #options: ChannelFeedOptions
  readonly #refreshes: KeyedRerun
  readonly #listener: ChannelListener
  readonly #rescans = new Set<Promise<void>>()
  #rescanTimer: NodeJS.Timeout | undefined

  constructor (options: ChannelFeedOptions) {
    this.#options = options
    this.#refreshes = new KeyedRerun(options.refresh, {
      retryDelayMs: options.retryDelayMs,
      maxRetries: options.maxRetries,
      onError: (key, error, retry) => options.log.warn(options.failureMessage, { key, retry, error: toError(error) })
    })
    this.#listener = new ChannelListener({
      connectionString: options.connectionString,
      channel: options.channel,
      applicationName: options.applicationName,
      log: options.log,
      onNotification: (key) => this.changed(key),
      onReconnect: () => { void this.rescan() }
    })
  }

  async start (): Promise<void> {
    await this.#listener.start()
    if (this.#options.rescanMs !== undefined) {
      this.#rescanTimer = setInterval(() => { void this.rescan() }, this.#options.rescanMs)
      this.#rescanTimer.unref()
    }
  }

  /** Whether the LISTEN connection is up (for readiness: /ready). */
  get listening (): boolean {
    return this.#listener.connected
  }

  /** Refreshes no more; resolves when the refreshes and rescans under way have ended and the connection is closed. */
  async stop (): Promise<void> {
    clearInterval(this.#rescanTimer)
    await this.#refreshes.stop()
    await this.#listener.stop()
    await Promise.allSettled([...this.#rescans])
  }

  /** Asks for a refresh of `key`, if it concerns this process. */
  changed (key: string): void {
    if (this.#options.wants?.(key) ?? true) this.#refreshes.request(key)
  }

  /** Runs the rescan now; resolves when it is done. Its failure is logged, never thrown. */
  async rescan (): Promise<void> {
    const running = (async () => { await this.#options.rescan() })().catch((error: unknown) => {
      this.#options.log.warn('rescan failed; the next one tries again', { error: toError(error) })
    })
    this.#rescans.add(running)
    try {
      await running
    } finally {
      this.#rescans.delete(running)
    }
  }
}
