import { isIPv4, isIPv6 } from 'node:net'
import { LRUCache } from 'lru-cache'
import { rateLimitRefusals } from '../security/refusals.ts'

/** A client address over the failed-authentication limit: its credentials are not looked up. */
export class TooManyAuthFailuresError extends Error {
  override name = 'TooManyAuthFailuresError'
  /** Whole seconds until the client's window ends (at least 1). */
  readonly retryAfter: number
  constructor (retryAfter: number, limit: number, windowSeconds: number) {
    super(`too many failed authentications from this address (more than ${limit} per ${windowSeconds} s); try again in ${retryAfter} s`)
    this.retryAfter = retryAfter
  }
}

export interface AuthFailureOptions {
  /** Failed authentications one client may have per window; 0 turns the limit off. */
  readonly limit: number
  readonly windowSeconds: number
  /** Clients remembered at once (least recently failed forgotten first), default 100,000. */
  readonly maxClients?: number
  /** The clock, in ms; injected by tests. */
  readonly now?: () => number
}

/**
 * Failed authentications per client, counted in this process's memory in fixed windows aligned on
 * the clock (issue 12, item 5). A failure costs no statement, and a client over the limit is
 * refused before its credentials are looked up, so guessing tokens, or sending any bad bearer,
 * costs the database nothing once the limit is reached. Each gateway counts on its own: N gateways
 * behind a balancer let through up to N times the limit.
 */
export class AuthFailures {
  readonly #options: AuthFailureOptions
  readonly #windowMs: number
  readonly #now: () => number
  readonly #clients: LRUCache<string, { start: number, failures: number }>

  constructor (options: AuthFailureOptions) {
    this.#options = options
    this.#windowMs = options.windowSeconds * 1000
    this.#now = options.now ?? Date.now
    this.#clients = new LRUCache({ max: options.maxClients ?? 100_000, ttl: this.#windowMs, ttlAutopurge: false })
  }

  /** Seconds the client at `address` must wait, when it has used up its failures of this window; else null. */
  retryAfter (address: string | undefined): number | null {
    if (this.#options.limit === 0) return null
    const now = this.#now()
    const client = this.#clients.get(clientKeyOf(address))
    if (client === undefined || client.start !== this.#windowOf(now) || client.failures < this.#options.limit) return null
    // Each edge asks once per attempt it then refuses (authenticate, the WebSocket upgrade).
    rateLimitRefusals.inc({ limit: 'auth_failures' })
    return Math.max(1, Math.ceil((client.start + this.#windowMs - now) / 1000))
  }

  /** The refusal of a client that has used up its failures, or null: for the edges that answer it. */
  refusal (address: string | undefined): TooManyAuthFailuresError | null {
    const retryAfter = this.retryAfter(address)
    return retryAfter === null ? null : new TooManyAuthFailuresError(retryAfter, this.#options.limit, this.#options.windowSeconds)
  }

  /** Counts one failed authentication of the client at `address`. */
  record (address: string | undefined): void {
    if (this.#options.limit === 0) return
    const key = clientKeyOf(address)
    const start = this.#windowOf(this.#now())
    const client = this.#clients.get(key)
    if (client === undefined || client.start !== start) this.#clients.set(key, { start, failures: 1 })
    else client.failures++
  }

  #windowOf (now: number): number {
    return Math.floor(now / this.#windowMs) * this.#windowMs
  }
}

/**
 * The key a client address is counted under: an IPv4 address as it is (also when the socket shows
 * it IPv4-mapped, `::ffff:192.0.2.1`), an IPv6 address by its /64, since one host commonly has a
 * whole /64 to pick addresses from.
 */
export function clientKeyOf (address: string | undefined): string {
  const plain = address?.replace(/%.*$/, '') ?? ''
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(plain)?.[1]
  if (mapped !== undefined) return mapped
  if (isIPv4(plain)) return plain
  if (!isIPv6(plain)) return 'unknown'
  const [head = '', tail] = plain.split('::')
  const groups = (part: string | undefined): string[] => part === undefined || part === '' ? [] : part.split(':')
  const left = groups(head)
  const right = groups(tail)
  const all = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${all.slice(0, 4).map(group => parseInt(group, 16).toString(16)).join(':')}::/64`
}
