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
  /** How often to sweep even without a reconnect (WEBHOOK_SWEEP_SECONDS), in ms; default 5 min. */
  readonly sweepMs?: number
}

/**
 * The sweep's default period. A sweep reads every bulk with a notify_url (about 5 s for 100,000 of
 * them on a busy 2-core machine), so it is a safety net, not the way finishes are found.
 */
const SWEEP_MS = 300_000
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
 * worker ran (all items rejected at acceptance, say). So it sweeps on start, after every
 * reconnect and every `sweepMs`: every finished bulk with a notify_url and no notification for its
 * finish is checked.
 *
 * Nothing is dropped (issue 13, item 8). A check can fail while the LISTEN connection stays up (a
 * database fault that spares that socket), and a finished bulk changes no more, so no later
 * notification would bring it back: a failed check, from a notification or a sweep, is retried
 * with backoff (1 s doubling, at most 30 s apart) until it works or the process stops, and a sweep
 * that failed is done again by the next one.
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
      // A finished bulk changes no more: no later notification would bring a failed check back. Retry
      // until it works, however long the database is in trouble.
      retryDelayMs: (attempt) => Math.min(1000 * 2 ** (Math.min(attempt, 6) - 1), 30_000),
      maxRetries: Infinity,
      failureMessage: 'could not check a changed bulk',
      // Notifications sent while we were away are lost: sweep for what finished meanwhile, and
      // periodically, in case a sweep failed or a finish was missed some other way.
      rescan: async () => await this.#sweep(),
      rescanMs: options.sweepMs ?? SWEEP_MS
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

  /** Whether its LISTEN connection is up (readiness). */
  get listening (): boolean {
    return this.#feed.listening
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
            this.#log.warn('could not check a finished bulk; retrying it', { uuid, error: toError(error) })
            // Handed to the notifications' path, which retries it until it works.
            this.#feed.changed(uuid)
          }
        }
        checked += page.length
        if (page.length < SWEEP_PAGE) break
        after = page.at(-1)!
      }
      if (checked > 0) this.#log.info('swept finished bulks awaiting a webhook', { checked })
    } catch (error) {
      // The next periodic sweep (or the reconnect that follows a lost connection) tries again.
      this.#log.warn('sweep of finished bulks failed', { error: toError(error) })
    }
  }
}
