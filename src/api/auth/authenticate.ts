import type { Principal } from '../../access/principal.ts'
import { AuthFailures, type AuthFailureOptions } from './failures.ts'

/** A way to know a caller from a bearer value: a JWT verifier. */
export type BearerVerifier = (bearer: string) => Promise<Principal | null>

/** API tokens as the token cache knows them (src/access/tokenCache.ts). */
export interface ApiTokens {
  /** What memory says without the database: a principal, null for a token found unknown a moment ago, undefined when it cannot tell. */
  cached (token: string): Principal | null | undefined
  /** The principal, asking the database when memory cannot tell. */
  authenticate (token: string): Promise<Principal | null>
  /** Whether the token authenticated here lately (it is then looked up even for a refused address). */
  wasValid (token: string): boolean
}

/**
 * The caller of an `Authorization` header value sent from a client address (its socket's
 * `remoteAddress`), or null. Throws TooManyAuthFailuresError (./failures.ts) when that address is
 * over the failed-authentication limit and the credentials could not be checked without the database.
 */
export type Authenticate = (authorization: string | null, address: string | undefined) => Promise<Principal | null>

export interface Authenticator {
  readonly authenticate: Authenticate
  /** The failed-authentication counts, for the edges that refuse a client before reading anything (a WebSocket upgrade). */
  readonly failures: AuthFailures
}

/**
 * One function that knows callers, for GraphQL over HTTP, graphql-ws's connection_init and the
 * results file alike: `Bearer <API token>`, then `Bearer <JWT>` when a verifier for those is
 * configured. Anything else, or a revoked or unknown token, is no one, and counts one failed
 * authentication of the client's address (issue 12, item 5).
 *
 * An address over its limit is refused before anything costs a statement: a token the cache
 * knows is accepted, one that authenticated here lately is still looked up (so that genuine
 * callers behind one proxy with an attacker keep working), a JWT is still verified (that costs no
 * statement, and an unknown `kid` no fetch within the cooldown); anything else is refused with
 * TooManyAuthFailuresError, not looked up.
 */
export function createAuthenticator (apiTokens: ApiTokens, verifiers: readonly BearerVerifier[], limit: AuthFailureOptions): Authenticator {
  const failures = new AuthFailures(limit)
  const identify = async (bearer: string, refused: boolean): Promise<Principal | null> => {
    const cached = apiTokens.cached(bearer)
    if (cached) return cached
    // null: an unknown API token a moment ago, maybe a JWT; undefined: ask the database, if allowed.
    if (cached === undefined && (!refused || apiTokens.wasValid(bearer))) {
      const byToken = await apiTokens.authenticate(bearer)
      if (byToken !== null) return byToken
    }
    for (const verify of verifiers) {
      const principal = await verify(bearer)
      if (principal !== null) return principal
    }
    return null
  }
  return {
    failures,
    async authenticate (authorization, address) {
      const refusal = failures.refusal(address)
      const bearer = /^Bearer\s+(\S{1,4096})$/i.exec(authorization?.trim() ?? '')?.[1]
      const principal = bearer === undefined ? null : await identify(bearer, refusal !== null)
      if (principal !== null) return principal
      failures.record(address)
      if (refusal !== null) throw refusal
      return null
    }
  }
}
