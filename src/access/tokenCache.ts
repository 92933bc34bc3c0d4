import { LRUCache } from 'lru-cache'
import { ChannelListener } from '../platform/db/listener.ts'
import type { Db } from '../platform/db/pool.ts'
import type { Logger } from '../platform/log.ts'
import type { Principal } from './principal.ts'
import { authenticateToken, hashToken } from './tokens.ts'

/** migrations/0015 and 0020: a token was created, revoked, deleted or changed. */
const CHANNEL = 'api_token_changed'
/** The notification's payload when every token may have changed (a TRUNCATE, or notifications lost). */
export const ALL_TOKENS = '*'
/** How long a token found unknown is answered as unknown without asking the database again. */
const UNKNOWN_TTL_MS = 60_000
/** How long a token that authenticated is remembered as one that did (see wasValid). */
const VALID_MEMORY_MS = 24 * 3_600_000

export interface TokenCacheOptions {
  readonly connectionString: string
  readonly log: Logger
  /** How long a principal is kept: the bound on a revocation's delay if a notification is lost. */
  readonly ttlMs?: number
  readonly maxEntries?: number
}

/**
 * API tokens' principals kept in memory, so that a request does not cost a statement to know its
 * caller (measured: one of the seven a single placeOrder made). Keyed by the token's hash.
 *
 * Unknown tokens are remembered too, for UNKNOWN_TTL_MS, so that a client repeating a wrong or
 * revoked token costs one statement, not one per request (issue 12, item 5). Guessing fills that
 * part only as fast as the failed-authentication limit lets it (src/api/auth/failures.ts), and the
 * LRU bound keeps it small.
 *
 * A change takes effect at once in the gateway that made it, and on every other one as soon as the
 * database's NOTIFY api_token_changed (sent at its commit: a token created, revoked, deleted or
 * changed) arrives and empties their caches, known and unknown alike. A lookup that raced a change
 * (read before it committed, done after its notification) is not kept: each lookup notes the
 * cache's generation before it reads and keeps its answer only if no notification came in between.
 * While the LISTEN connection is away notifications are lost, so it empties the cache when it
 * comes back, and no entry lives longer than its TTL (30 s) in any case. last_used_at is refreshed
 * when a token is read, so at most a TTL and a minute late.
 */
export class TokenCache {
  readonly #db: Db
  readonly #cache: LRUCache<string, Principal>
  readonly #unknown: LRUCache<string, true>
  readonly #valid: LRUCache<string, true>
  readonly #listener: ChannelListener
  readonly #changeListeners = new Set<(tokenId: string) => void>()
  #generation = 0

  constructor (db: Db, options: TokenCacheOptions) {
    this.#db = db
    const max = options.maxEntries ?? 10_000
    this.#cache = new LRUCache({ max, ttl: options.ttlMs ?? 30_000 })
    this.#unknown = new LRUCache({ max, ttl: UNKNOWN_TTL_MS })
    this.#valid = new LRUCache({ max, ttl: VALID_MEMORY_MS })
    this.#listener = new ChannelListener({
      connectionString: options.connectionString,
      channel: CHANNEL,
      applicationName: 'order-ops-gateway token cache',
      log: options.log,
      onNotification: (tokenId) => this.changed(tokenId),
      onReconnect: () => this.changed(ALL_TOKENS)
    })
  }

  async start (): Promise<void> {
    await this.#listener.start()
  }

  async stop (): Promise<void> {
    await this.#listener.stop()
    this.invalidate()
  }

  /**
   * What memory says of a bearer token without asking the database: its principal, null when it
   * was found unknown or revoked a moment ago, undefined when memory cannot tell.
   */
  cached (token: string): Principal | null | undefined {
    const hash = hashToken(token)
    return this.#cache.get(hash) ?? (this.#unknown.has(hash) ? null : undefined)
  }

  /** Whether its LISTEN connection is up (readiness): while it is not, revocations are learnt only by the TTL. */
  get listening (): boolean {
    return this.#listener.connected
  }

  /** The principal of a bearer token, or null when it is unknown or revoked. */
  async authenticate (token: string): Promise<Principal | null> {
    const hash = hashToken(token)
    const cached = this.#cache.get(hash) ?? (this.#unknown.has(hash) ? null : undefined)
    if (cached !== undefined) return cached
    const generation = this.#generation
    const principal = await authenticateToken(this.#db, token)
    if (generation === this.#generation) {
      if (principal !== null) this.#cache.set(hash, principal)
      else this.#unknown.set(hash, true)
    }
    if (principal !== null) this.#valid.set(hash, true)
    return principal
  }

  /**
   * Whether this token authenticated here within the last day, revoked since or not. Such a token
   * is still looked up while its client address is refused for failed authentications, so that
   * callers behind one address with an attacker keep working (src/api/auth/authenticate.ts).
   */
  wasValid (token: string): boolean {
    return this.#valid.has(hashToken(token))
  }

  /**
   * Calls `listener` with the id of each token that changed (created, revoked, deleted, its owner or
   * role changed), or ALL_TOKENS when any may have; returns how to stop.
   */
  onChange (listener: (tokenId: string) => void): () => void {
    this.#changeListeners.add(listener)
    return () => this.#changeListeners.delete(listener)
  }

  /** A token changed (its id), or any may have (ALL_TOKENS): forget everything, and tell the listeners. */
  changed (tokenId: string): void {
    this.invalidate()
    for (const listener of this.#changeListeners) listener(tokenId)
  }

  /** Forgets every principal and every unknown token: on a notification, and at once in the process that revoked a token. */
  invalidate (): void {
    this.#generation++
    this.#cache.clear()
    this.#unknown.clear()
  }
}
