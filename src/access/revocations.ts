import { run, type Db } from '../platform/db/pool.ts'
import { KeyedRerun } from '../platform/feeds/rerun.ts'
import { toError, type Logger } from '../platform/log.ts'
import type { Principal } from './principal.ts'
import { selectLiveApiToken } from './sql/apiTokens.ts'
import { ALL_TOKENS, type TokenCache } from './tokenCache.ts'

interface Session {
  readonly principal: Principal
  readonly onEnded: () => void
}

/**
 * Ends what a caller keeps open (its subscriptions) once its API token is revoked, deleted, or
 * given another owner or role (issue 12, item 10). It hears of token changes from the token cache
 * (the NOTIFY api_token_changed of migration 0015, or a revocation in this process), reads each
 * changed token that has sessions here once, by its id, and ends the sessions whose token is no
 * longer what it was. A read that fails is retried, with backoff, until it works: a revocation
 * must not be forgotten for a database hiccup. JWT callers are not watched: nothing revokes them.
 */
export class RevocationWatch {
  readonly #db: Db
  readonly #tokens: TokenCache
  readonly #log: Logger
  readonly #sessions = new Map<string, Set<Session>>()
  readonly #checks: KeyedRerun
  #unsubscribe: (() => void) | undefined

  constructor (db: Db, tokens: TokenCache, log: Logger) {
    this.#db = db
    this.#tokens = tokens
    this.#log = log.child({ component: 'revocations' })
    this.#checks = new KeyedRerun(async (tokenId) => await this.#check(tokenId), {
      retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 10_000),
      maxRetries: Infinity,
      onError: (tokenId, error, retry) => this.#log.warn('could not check a changed token; retrying', { tokenId, retry, error: toError(error) })
    })
  }

  start (): void {
    this.#unsubscribe = this.#tokens.onChange((tokenId) => {
      for (const id of tokenId === ALL_TOKENS ? [...this.#sessions.keys()] : [tokenId]) {
        if (this.#sessions.has(id)) this.#checks.request(id)
      }
    })
  }

  async stop (): Promise<void> {
    this.#unsubscribe?.()
    await this.#checks.stop()
  }

  /**
   * Calls `onEnded` once, when the API token `principal` authenticated with is revoked, deleted or
   * changed; returns how to stop watching (when the session ends by itself).
   */
  watch (principal: Principal, onEnded: () => void): () => void {
    if (principal.via.kind !== 'token') return () => {}
    const tokenId = principal.via.tokenId
    const session: Session = { principal, onEnded }
    const sessions = this.#sessions.get(tokenId) ?? new Set<Session>()
    sessions.add(session)
    this.#sessions.set(tokenId, sessions)
    return () => this.#forget(tokenId, session)
  }

  async #check (tokenId: string): Promise<void> {
    if (!this.#sessions.has(tokenId)) return
    const [now] = await run<{ owner: string, role: string }>(this.#db, selectLiveApiToken(tokenId))
    for (const session of [...this.#sessions.get(tokenId) ?? []]) {
      if (now !== undefined && now.owner === session.principal.owner && now.role === session.principal.role) continue
      this.#forget(tokenId, session)
      session.onEnded()
    }
  }

  #forget (tokenId: string, session: Session): void {
    const sessions = this.#sessions.get(tokenId)
    sessions?.delete(session)
    if (sessions?.size === 0) this.#sessions.delete(tokenId)
  }
}
