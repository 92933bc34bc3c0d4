import { ChannelFeed } from '../../platform/feeds/channelFeed.ts'
import { toError, type Logger } from '../../platform/log.ts'
import { BULK_CHANGED_CHANNEL } from '../statusFeed.ts'

export interface FinishWatcherOptions {
  readonly connectionString: string
  /** Looks at one changed bulk and enqueues its webhook if it has just finished (notifyIfFinished). */
  readonly check: (bulkUuid: string) => Promise<unknown>
  /** Lists, page by page after a uuid, the finished bulks whose finish has no notification yet. */
  readonly unnotified: (afterUuid: string, limit: number) => Promise<readonly string[]>
  readonly log: Logger
}

/** Failed checks are tried again after 1 s, 2 s, 4 s … (at most 30 s apart), this many times. */
const CHECK_RETRIES = 8
const SWEEP_PAGE = 500
const NIL_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * Notices bulks finishing, in the worker role, to send their webhooks.
 *
 * Every committed change to a bulk's operations NOTIFYs `bulk_changed` with its uuid (the trigger
 * of migrations/0002), from whichever process made it. This keeps one LISTEN connection, and on
 * each notification checks that bulk (checks of one bulk run one at a time; changes arriving
 * during a check cause one more check after it). Every worker process does the same: the check
 * itself makes the notification exactly-once per finish (src/operations/webhooks/enqueue.ts).
 *
 * Notifications are lost while the connection is down, and a bulk may have finished while no
 * worker ran (all items rejected at acceptance, say). So on start and after every reconnect it
 * sweeps: every finished bulk with a notify_url and no notification for its finish is checked.
 * The connection comes back by itself (src/platform/db/listener.ts).
 */
export class FinishWatcher {
  readonly #options: FinishWatcherOptions
  readonly #log: Logger
  readonly #feed: ChannelFeed
  #stopped = false

  constructor (options: FinishWatcherOptions) {
    this.#options = options
    this.#log = options.log.child({ component: 'finish-watcher' })
    this.#feed = new ChannelFeed({
      connectionString: options.connectionString,
      channel: BULK_CHANGED_CHANNEL,
      applicationName: 'order-ops-gateway:finish-watcher',
      log: this.#log,
      refresh: async (uuid) => { await options.check(uuid) },
      // A finished bulk changes no more: no later notification would bring a failed check back. Retry.
      retryDelayMs: (attempt) => Math.min(1000 * 2 ** (attempt - 1), 30_000),
      maxRetries: CHECK_RETRIES,
      failureMessage: 'could not check a changed bulk',
      // Notifications sent while we were away are lost: sweep for what finished meanwhile.
      rescan: async () => await this.#sweep()
    })
  }

  /** LISTENs, then sweeps once; resolves when the sweep is done. */
  async start (): Promise<void> {
    await this.#feed.start()
    await this.#feed.rescan()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await this.#feed.stop()
  }

  /** Checks every finished bulk whose finish has no notification yet, one at a time. */
  async #sweep (): Promise<void> {
    let after = NIL_UUID
    let checked = 0
    try {
      while (!this.#stopped) {
        const page = await this.#options.unnotified(after, SWEEP_PAGE)
        for (const uuid of page) {
          if (this.#stopped) return
          try {
            await this.#options.check(uuid)
          } catch (error) {
            this.#log.warn('could not check a finished bulk', { uuid, error: toError(error) })
          }
        }
        checked += page.length
        if (page.length < SWEEP_PAGE) break
        after = page.at(-1)!
      }
      if (checked > 0) this.#log.info('swept finished bulks awaiting a webhook', { checked })
    } catch (error) {
      // The reconnect that follows a lost connection sweeps again.
      this.#log.warn('sweep of finished bulks failed', { error: toError(error) })
    }
  }
}
