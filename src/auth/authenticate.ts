import type { Db } from '../db/pool.ts'
import type { Principal } from './principal.ts'
import { authenticateToken } from './tokens.ts'

/** Another way to know a caller, tried when the bearer value is no API token (a JWT verifier). */
export type BearerVerifier = (bearer: string) => Promise<Principal | null>

/**
 * The caller of an `Authorization` header value: `Bearer <API token>`, or `Bearer <JWT>` when a
 * verifier for those is configured. Anything else, or a revoked or unknown token, is no one.
 */
export function createAuthenticator (db: Db, verifiers: readonly BearerVerifier[] = []): (authorization: string | null) => Promise<Principal | null> {
  return async (authorization) => {
    const bearer = /^Bearer\s+(\S{1,4096})$/i.exec(authorization?.trim() ?? '')?.[1]
    if (bearer === undefined) return null
    const byToken = await authenticateToken(db, bearer)
    if (byToken !== null) return byToken
    for (const verify of verifiers) {
      const principal = await verify(bearer)
      if (principal !== null) return principal
    }
    return null
  }
}
