import { run, type Db } from '../platform/db/pool.ts'
import { claimRateLimit, returnRateLimitLeases, type RateLimitGrant, type UnusedLease } from './sql/rateLimit.ts'

/**
 * A lease asks for this share of what the limit leaves in the window (at least the hits the
 * operation needs), so that leases shrink as the caller nears its limit, and what a gateway holds
 * unused is never more than an eighth of what was left when it asked.
 */
export const LEASE_SHARE = 8

/** What one gateway knows of one key in the current window. */
interface KeyState {
  /** Window start (epoch seconds, the database's clock) its lease belongs to; '' before the first grant. */
  windowStart: string
  /** When that window ends, on this process's clock (Date.now()). */
  endsAt: number
  /** Granted hits not spent yet. */
  lease: number
  /** The key's count in the database at the last grant, every gateway's leases included. */
  known: number
  lastHit: number
  /** Until then, a hit the lease cannot pay for is refused without asking the database again. */
  exhaustedUntil: number
  claiming?: Promise<void>
}

export interface RateLimitLeasesOptions {
  readonly db: Db
  /** Hits one key may have per window; at least 1. */
  readonly limit: number
  readonly windowSeconds: number
  /** How long a lease may lie unused before it is given back, and how long a refusal is answered from memory; default 1,000 ms. */
  readonly idleMs?: number
  /** Told of a failed give-back (the hits lapse with the window; nothing else is lost). */
  readonly onError?: (error: Error) => void
}

/**
 * Per-key rate limits shared by every gateway through PostgreSQL, without a statement per hit
 * (issue 17, item 6). The database grants hits in leases (`claimRateLimit`), never past the limit:
 * whatever the number of gateways, a key gets at most `limit` hits in a window. A gateway spends
 * its lease from memory, asks for another when it is spent, and gives back a lease unused for
 * `idleMs`, so that a caller that moves to another gateway finds it there. Concurrent hits of one
 * key wait for one grant.
 */
export class RateLimitLeases {
  private readonly keys = new Map<string, KeyState>()
  private readonly timer: NodeJS.Timeout
  private readonly idleMs: number
  private readonly options: RateLimitLeasesOptions

  constructor (options: RateLimitLeasesOptions) {
    this.options = options
    this.idleMs = options.idleMs ?? 1000
    this.timer = setInterval(() => { void this.giveBackIdle(false) }, this.idleMs)
    this.timer.unref()
  }

  /**
   * Spends `hits` hits of `key`: null when they are granted, else the seconds until the window
   * ends. Answers from memory while the lease pays; returns a promise only when it must ask the database.
   */
  take (key: string, hits: number): number | null | Promise<number | null> {
    const now = Date.now()
    const state = this.keys.get(key)
    if (state !== undefined && now < state.endsAt && state.claiming === undefined) {
      state.lastHit = now
      if (state.lease >= hits) {
        state.lease -= hits
        return null
      }
      if (now < state.exhaustedUntil) return retryAfterOf(state, now)
    }
    return this.takeSlowly(key, hits)
  }

  private async takeSlowly (key: string, hits: number): Promise<number | null> {
    for (;;) {
      const now = Date.now()
      let state = this.keys.get(key)
      if (state === undefined || now >= state.endsAt) {
        state = { windowStart: '', endsAt: Number.POSITIVE_INFINITY, lease: 0, known: 0, lastHit: now, exhaustedUntil: 0 }
        this.keys.set(key, state)
      }
      state.lastHit = now
      if (state.claiming !== undefined) {
        await state.claiming
        continue
      }
      if (state.lease >= hits) {
        state.lease -= hits
        return null
      }
      if (now < state.exhaustedUntil) return retryAfterOf(state, now)
      const claim = this.claim(key, state, hits)
      state.claiming = claim
      try {
        await claim
      } finally {
        state.claiming = undefined
      }
      if (state.lease < hits) return retryAfterOf(state, Date.now())
    }
  }

  private async claim (key: string, state: KeyState, hits: number): Promise<void> {
    const want = Math.max(hits - state.lease, Math.ceil(Math.max(0, this.options.limit - state.known) / LEASE_SHARE), 1)
    const sent = Date.now()
    const [grant] = await run<RateLimitGrant>(this.options.db, claimRateLimit(key, this.options.windowSeconds, want, this.options.limit))
    if (grant === undefined) throw new Error('claim_rate_limit returned no row')
    // A lease of an earlier window lapsed with it.
    if (grant.window_start !== state.windowStart) state.lease = 0
    state.windowStart = grant.window_start
    // From when the statement was sent: the window ends here no later than it does in the database.
    state.endsAt = sent + grant.ends_in_ms
    state.known = grant.hits
    state.lease += grant.granted
    if (state.lease < hits) state.exhaustedUntil = Date.now() + this.idleMs
  }

  /** Gives back the leases unused for idleMs, or every lease (`all`, on stop), in one statement. */
  private async giveBackIdle (all: boolean): Promise<void> {
    const now = Date.now()
    const unused: UnusedLease[] = []
    for (const [key, state] of this.keys) {
      if (state.claiming !== undefined) continue
      if (now >= state.endsAt) this.keys.delete(key)
      else if (state.lease > 0 && (all || now - state.lastHit >= this.idleMs)) {
        unused.push({ key, windowStart: state.windowStart, hits: state.lease })
        state.known -= state.lease
        state.lease = 0
      }
    }
    if (unused.length === 0) return
    try {
      await run(this.options.db, returnRateLimitLeases(unused))
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** Stops the give-back timer and gives every lease back. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.giveBackIdle(true)
  }
}

function retryAfterOf (state: KeyState, now: number): number {
  return Math.max(1, Math.ceil((state.endsAt - now) / 1000))
}
