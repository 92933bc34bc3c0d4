import type { Principal } from '../../access/principal.ts'

/** A way to know a caller from a bearer value: API tokens (src/access/tokenCache.ts), a JWT verifier. */
export type BearerVerifier = (bearer: string) => Promise<Principal | null>

/**
 * The caller of an `Authorization` header value: `Bearer <API token>`, or `Bearer <JWT>` when a
 * verifier for those is configured. Anything else, or a revoked or unknown token, is no one.
 */
export function createAuthenticator (apiTokens: BearerVerifier, verifiers: readonly BearerVerifier[] = []): (authorization: string | null) => Promise<Principal | null> {
  return async (authorization) => {
    const bearer = /^Bearer\s+(\S{1,4096})$/i.exec(authorization?.trim() ?? '')?.[1]
    if (bearer === undefined) return null
    const byToken = await apiTokens(bearer)
    if (byToken !== null) return byToken
    for (const verify of verifiers) {
      const principal = await verify(bearer)
      if (principal !== null) return principal
    }
    return null
  }
}
