import { LRUCache } from 'lru-cache'
import { ChannelListener } from '../platform/db/listener.ts'
import type { Db } from '../platform/db/pool.ts'
import type { Logger } from '../platform/log.ts'
import type { Principal } from './principal.ts'
import { authenticateToken, hashToken } from './tokens.ts'

/** migrations/0015: a token was revoked, deleted or changed. */
const CHANNEL = 'api_token_changed'

export interface TokenCacheOptions {
  readonly connectionString: string
  readonly log: Logger
  /** How long a principal is kept: the bound on a revocation's delay if a notification is lost. */
  readonly ttlMs?: number
  readonly maxEntries?: number
}

/**
 * API tokens' principals kept in memory, so that a request does not cost a statement to know its
 * caller (measured: one of the seven a single placeOrder made). Keyed by the token's hash; only
 * known tokens are kept, so guessing fills nothing.
 *
 * A revocation takes effect at once in the gateway that made it, and on every other one as soon as
 * the database's NOTIFY api_token_changed (sent at its commit) arrives and empties their caches. A
 * lookup that raced a revocation (read before it committed, done after its notification) is not
 * kept: each lookup notes the cache's generation before it reads and keeps its answer only if no
 * notification came in between. While the LISTEN connection is away notifications are lost, so it
 * empties the cache when it comes back, and no entry lives longer than the TTL (30 s) in any case.
 * last_used_at is refreshed when a token is read, so at most a TTL and a minute late.
 */
export class TokenCache {
  readonly #db: Db
  readonly #cache: LRUCache<string, Principal>
  readonly #listener: ChannelListener
  #generation = 0

  constructor (db: Db, options: TokenCacheOptions) {
    this.#db = db
    this.#cache = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs ?? 30_000 })
    this.#listener = new ChannelListener({
      connectionString: options.connectionString,
      channel: CHANNEL,
      applicationName: 'order-ops-gateway token cache',
      log: options.log,
      onNotification: () => this.invalidate(),
      onReconnect: () => this.invalidate()
    })
  }

  async start (): Promise<void> {
    await this.#listener.start()
  }

  async stop (): Promise<void> {
    await this.#listener.stop()
    this.invalidate()
  }

  /** Whether its LISTEN connection is up (readiness): while it is not, revocations are learnt only by the TTL. */
  get listening (): boolean {
    return this.#listener.connected
  }

  /** The principal of a bearer token, or null when it is unknown or revoked. */
  async authenticate (token: string): Promise<Principal | null> {
    const hash = hashToken(token)
    const cached = this.#cache.get(hash)
    if (cached !== undefined) return cached
    const generation = this.#generation
    const principal = await authenticateToken(this.#db, token)
    if (principal !== null && generation === this.#generation) this.#cache.set(hash, principal)
    return principal
  }

  /** Forgets every principal: on a notification, and at once in the process that revoked a token. */
  invalidate (): void {
    this.#generation++
    this.#cache.clear()
  }
}
