import { Repeater } from 'graphql-yoga'
import { ChannelFeed } from '../platform/feeds/channelFeed.ts'
import type { OrderEvent } from './domain/events.ts'
import type { RecordedEvent } from '../platform/events/store.ts'
import type { Logger } from '../platform/log.ts'
import { evolveOrderView, ORDER_VIEW_STATUS, type OrderView } from './orderView.ts'

/** The channel the orders table's triggers NOTIFY on (migrations/0012); the payload is an order id. */
export const ORDER_CHANGED_CHANNEL = 'order_changed'

/** How often watched orders are read again even without a notification: the safety net for a lost one. */
const RESCAN_MS = 15_000
/** Wait before reading an order again after a read failed. */
const RETRY_LOAD_MS = 1000

/** Statuses after which orderProgress completes. */
const FINAL: ReadonlySet<string> = new Set([ORDER_VIEW_STATUS.COMPLETED, ORDER_VIEW_STATUS.CANCELED, ORDER_VIEW_STATUS.FAILED])

export function isFinalOrderView (view: OrderView): boolean {
  return FINAL.has(view.status)
}

export interface OrderFeedSource {
  /** The events of an order's stream after `afterVersion`, in order. */
  readonly readEvents: (orderId: string, afterVersion: number) => Promise<ReadonlyArray<RecordedEvent<OrderEvent>>>
  /** For an order with no event yet: whether it will never have one (its placement ended without placing it). */
  readonly placementEnded: (orderId: string) => Promise<boolean>
}

interface Watcher {
  /** Hands the watcher a view; it keeps only views newer than the last it had. */
  deliver (view: OrderView): void
  /** Nothing more will come. */
  end (): void
}

/** What the feed knows of one watched order: the view folded so far, shared by its watchers. */
interface Watched {
  readonly watchers: Set<Watcher>
  view: OrderView | null
  /** Whether the stream was read once: until then, a load folds what is there into one current view. */
  loaded: boolean
}

/**
 * Fans order progress out to this process's orderProgress subscribers (issue 4).
 *
 * Every commit that changes an order's read model NOTIFYs its id, from whichever process made it.
 * One LISTEN connection per gateway receives them; for an order someone here watches, the stream
 * is read after the version the feed has folded, and each new event is folded with
 * evolveOrderView (the read model's own fold) and the view after it handed to every watcher: so a
 * subscriber sees every step, even when several committed at once, and never a view twice.
 *
 * A watcher first gets the order's current view (the whole stream folded once, or the view the
 * feed holds when others watch the order already), then one view per event. An order accepted but
 * not placed yet has no view: its watchers get the first one when it is placed. Reads of one order
 * run one at a time (KeyedRerun), one more after changes during a read; a failed read is retried.
 * Watched orders are read again every 15 s, and all of them after the LISTEN connection comes
 * back, since notifications sent while it was away are lost.
 */
export class OrderProgressFeed {
  readonly #orders = new Map<string, Watched>()
  readonly #source: OrderFeedSource
  readonly #feed: ChannelFeed

  constructor (connectionString: string, source: OrderFeedSource, log: Logger) {
    this.#source = source
    this.#feed = new ChannelFeed({
      connectionString,
      channel: ORDER_CHANGED_CHANNEL,
      applicationName: 'order-ops-gateway:order-feed',
      log: log.child({ component: 'order-feed' }),
      refresh: async (orderId) => await this.#refresh(orderId),
      wants: (orderId) => this.#orders.has(orderId),
      retryDelayMs: () => RETRY_LOAD_MS,
      maxRetries: Infinity,
      failureMessage: 'could not read a changed order; trying again',
      rescan: () => { for (const orderId of this.#orders.keys()) this.#feed.changed(orderId) },
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
    for (const { watchers } of this.#orders.values()) for (const watcher of watchers) watcher.end()
  }

  /**
   * The order's current view, then the view after each new event, until a view is final
   * (COMPLETED, CANCELED, FAILED), or the order turns out never to be placed. Every view is kept
   * for a slow reader (at most one per event of the stream). Returning from the iterator (a client
   * that unsubscribes or disconnects) unregisters at once.
   */
  watch (orderId: string): AsyncIterable<OrderView> {
    return new Repeater<OrderView>(async (push, stop) => {
      let version = 0
      const watcher: Watcher = {
        deliver: (view) => {
          if (view.version <= version) return
          version = view.version
          void push(view)
          if (isFinalOrderView(view)) stop()
        },
        end: () => { stop() }
      }
      let watched = this.#orders.get(orderId)
      if (!watched) this.#orders.set(orderId, watched = { watchers: new Set(), view: null, loaded: false })
      watched.watchers.add(watcher)
      // The view the feed holds is current up to the next read, which this asks for.
      if (watched.loaded && watched.view !== null) watcher.deliver(watched.view)
      this.#feed.changed(orderId)
      await stop
      watched.watchers.delete(watcher)
      if (watched.watchers.size === 0 && this.#orders.get(orderId) === watched) this.#orders.delete(orderId)
    })
  }

  /** Orders watched in this process. */
  get watchedOrders (): number {
    return this.#orders.size
  }

  /** Reads the order's new events once for everyone who watches it, and hands each its views. */
  async #refresh (orderId: string): Promise<void> {
    const watched = this.#orders.get(orderId)
    if (!watched) return
    // Asked before the stream is read (see placementEnded): a final placement and no event mean no order.
    const ended = watched.view === null ? await this.#source.placementEnded(orderId) : false
    const events = await this.#source.readEvents(orderId, watched.view?.version ?? 0)
    // Unwatched while reading: a new watcher of the order has its own entry and read.
    if (this.#orders.get(orderId) !== watched) return
    if (!watched.loaded) {
      // The first read: what happened before anyone here watched is folded into one current view.
      watched.loaded = true
      for (const event of events) watched.view = this.#fold(watched.view, event)
      if (watched.view !== null) for (const watcher of [...watched.watchers]) watcher.deliver(watched.view)
    } else {
      for (const event of events) {
        watched.view = this.#fold(watched.view, event)
        if (watched.view !== null) for (const watcher of [...watched.watchers]) watcher.deliver(watched.view)
      }
    }
    if (watched.view === null && ended) for (const watcher of [...watched.watchers]) watcher.end()
  }

  #fold (view: OrderView | null, event: RecordedEvent<OrderEvent>): OrderView | null {
    // A read racing another cannot give an event twice (reads of one order run one at a time), but stay safe.
    if (view !== null && event.streamVersion <= view.version) return view
    return evolveOrderView(view, event, { streamVersion: event.streamVersion, causationId: event.metadata.causationId })
  }
}
