import { createInlineSigningKeyProvider, createRemoteJwksSigningKeyProvider, type GetSigningKeyFunction } from '@graphql-yoga/plugin-jwt'
import jsonwebtoken, { type Jwt, type JwtPayload, type VerifyOptions } from 'jsonwebtoken'
import type { JwtConfig } from './jwtOptions.ts'
import type { Logger } from '../../platform/log.ts'
import type { BearerVerifier } from './authenticate.ts'
import { JWT_OWNER_PREFIX, ROLE, ROLES, type Principal, type Role } from '../../access/principal.ts'

/**
 * A JWT caller's owner is `jwt:<sub>`, never the bare subject: API token owners are names an admin
 * chooses (`acme`, `admin`), and an identity provider's subjects are chosen by someone else, so a
 * user whose `sub` happened to be `acme` would otherwise see acme's bulks. Subjects are unique per
 * issuer, and one issuer is trusted at a time; the issuer is left out of the owner so that its URL
 * can be respelt without orphaning every user's bulks. API token owners may not start with the
 * prefix (ownerProblem in ./principal.ts).
 */
/** Longest `sub` accepted: owners are stored and compared as text, and no provider needs more. */
const MAX_SUBJECT_LENGTH = 255
/** How long one fetch of the JWKS may take: a request waits for it. */
const JWKS_TIMEOUT_MS = 5_000
/**
 * Fetches of the JWKS per minute at most (jwks-rsa's rate limit): keys are cached per `kid` for
 * 10 minutes, but a token with an unknown `kid` is looked up again, and those are anybody's to make.
 */
const JWKS_REQUESTS_PER_MINUTE = 10
/** jwks-rsa's errors that mean "no key for this token", the token's fault rather than the issuer's. */
const NO_KEY_ERRORS: ReadonlySet<string> = new Set(['SigningKeyNotFoundError', 'JwksRateLimitError'])

/**
 * A `BearerVerifier` for JWTs, verified as `@graphql-yoga/plugin-jwt`'s `useJWT` verifies them: the
 * key from the plugin's signing key provider (by the token's `kid`), then `jsonwebtoken.verify`
 * with the issuer, audience and algorithms. It is not registered as a yoga plugin: one function
 * authenticates GraphQL over HTTP, graphql-ws's connection_init and the results file alike
 * (src/api/auth/authenticate.ts, after API tokens), so the three cannot disagree.
 *
 * Expired, not yet valid, from another issuer or for another audience, signed with another key or
 * algorithm, unsigned (`alg: none`), without `exp` or without `sub`: no one (null). A JWKS that
 * cannot be fetched is the gateway's failure, not the caller's, and is thrown (a masked 500).
 */
export function createJwtVerifier (config: JwtConfig, log: Logger): BearerVerifier {
  const logger = log.child({ component: 'jwt' })
  const signingKey: GetSigningKeyFunction = config.key.kind === 'secret'
    ? createInlineSigningKeyProvider(config.key.secret)
    : createRemoteJwksSigningKeyProvider({
      jwksUri: config.key.url,
      cache: true,
      rateLimit: true,
      jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
      timeout: JWKS_TIMEOUT_MS
    })
  const verification: VerifyOptions = {
    algorithms: [...config.algorithms],
    issuer: config.issuer,
    audience: config.audience
  }
  logger.info('JWTs accepted', { issuer: config.issuer, audience: config.audience, keys: config.key.kind === 'jwks' ? config.key.url : 'JWT_SECRET', algorithms: config.algorithms.join(',') })
  const refuse = (reason: string): null => {
    logger.debug('JWT refused', { reason })
    return null
  }

  return async (bearer) => {
    let decoded: Jwt | null
    try {
      decoded = jsonwebtoken.decode(bearer, { complete: true })
    } catch {
      decoded = null
    }
    // Not a JWT at all (an unknown API token, say): nothing to say about it.
    if (decoded === null || typeof decoded.payload !== 'object') return null
    // Checked again by verify; checked first so that no key is fetched for a token that cannot pass.
    if (!(config.algorithms as readonly string[]).includes(decoded.header.alg)) return refuse(`algorithm ${decoded.header.alg} is not accepted`)
    if (decoded.payload.iss !== config.issuer) return refuse('another issuer')

    let key: string
    try {
      key = await signingKey(decoded.header.kid)
    } catch (error) {
      const name = (error as Error | undefined)?.name ?? ''
      if (NO_KEY_ERRORS.has(name)) return refuse(`no signing key: ${(error as Error).message}`)
      logger.warn('the JWKS could not be read', { url: config.key.kind === 'jwks' ? config.key.url : undefined, error: error as Error })
      throw new Error('JWT signing keys are unavailable', { cause: error })
    }

    const payload = await new Promise<JwtPayload | string | null>((resolve) => {
      jsonwebtoken.verify(bearer, key, verification, (error, verified) => {
        if (error) logger.debug('JWT refused', { reason: error.message })
        resolve(error ? null : verified ?? null)
      })
    })
    if (payload === null || typeof payload === 'string') return null
    // A user-facing token that never expires is a leaked password that cannot be changed.
    if (typeof payload.exp !== 'number') return refuse('no exp')
    const subject = payload.sub
    if (typeof subject !== 'string' || subject === '' || subject.length > MAX_SUBJECT_LENGTH) return refuse('no usable sub')
    return principalOf(config, subject, payload[config.roleClaim])
  }
}

function principalOf (config: JwtConfig, subject: string, roleClaim: unknown): Principal {
  return {
    owner: JWT_OWNER_PREFIX + subject,
    role: roleOf(roleClaim),
    via: { kind: 'jwt', subject },
    rateLimitKey: `jwt:${config.issuer}:${subject}`
  }
}

/** The role claim, case aside; missing, not a string, or no role of ours: the least, customer. */
function roleOf (claim: unknown): Role {
  const wanted = typeof claim === 'string' ? claim.trim().toLowerCase() : undefined
  return ROLES.find(role => role === wanted) ?? ROLE.CUSTOMER
}
