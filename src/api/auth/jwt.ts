import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose'
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
/** How long a fetched JWKS is used before it is fetched again (jose's default): removed keys stop working within it. */
const JWKS_MAX_AGE_MS = 10 * 60_000

/**
 * jose's errors that are the token's fault: it is refused (no one). Any other error (the JWKS timed
 * out, answered other than 200, is not a key set, or could not be reached) is the issuer's or ours.
 */
const TOKEN_FAULTS: ReadonlySet<string> = new Set([
  errors.JWTExpired.code, errors.JWTClaimValidationFailed.code, errors.JWTInvalid.code, errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code, errors.JOSEAlgNotAllowed.code, errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code, errors.JWKSMultipleMatchingKeys.code, errors.JWKInvalid.code
])

/**
 * The keys a token is verified with: the shared secret, or the issuer's JWKS through jose's remote
 * key set. That one fetches the whole set, keeps it for JWKS_MAX_AGE_MS and serves every key in it
 * from memory meanwhile; a token whose `kid` is not in the set makes it fetch the set again only
 * when the last fetch is older than the cooldown (JWT_JWKS_COOLDOWN_SECONDS), else it is refused
 * at once. So tokens with made-up `kid`s cost at most one fetch per cooldown, and never make a
 * genuine token wait for, or lose, a key the set already has (issue 12, item 3).
 */
function keysOf (config: JwtConfig): JWTVerifyGetKey {
  if (config.key.kind === 'secret') {
    const secret = new TextEncoder().encode(config.key.secret)
    return async () => secret
  }
  return createRemoteJWKSet(new URL(config.key.url), {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: config.key.cooldownSeconds * 1000,
    cacheMaxAge: JWKS_MAX_AGE_MS
  })
}

/**
 * A `BearerVerifier` for JWTs, verified by jose's `jwtVerify` with the issuer, the audience and the
 * algorithms configured, `exp` and `sub` required. One function authenticates GraphQL over HTTP,
 * graphql-ws's connection_init and the results file alike (src/api/auth/authenticate.ts, after API
 * tokens), so the three cannot disagree.
 *
 * Expired, not yet valid, from another issuer or for another audience, signed with another key or
 * algorithm, unsigned (`alg: none`), without `exp` or without `sub`: no one (null). A JWKS that
 * cannot be fetched is the gateway's failure, not the caller's, and is thrown (a masked 500).
 */
export function createJwtVerifier (config: JwtConfig, log: Logger): BearerVerifier {
  const logger = log.child({ component: 'jwt' })
  const keys = keysOf(config)
  const verification: JWTVerifyOptions = {
    algorithms: [...config.algorithms],
    issuer: config.issuer,
    audience: config.audience,
    // A user-facing token that never expires is a leaked password that cannot be changed.
    requiredClaims: ['exp', 'sub']
  }
  logger.info('JWTs accepted', { issuer: config.issuer, audience: config.audience, keys: config.key.kind === 'jwks' ? config.key.url : 'JWT_SECRET', algorithms: config.algorithms.join(',') })
  const refuse = (reason: string): null => {
    logger.debug('JWT refused', { reason })
    return null
  }

  return async (bearer) => {
    let alg: string | undefined
    let issuer: string | undefined
    try {
      alg = decodeProtectedHeader(bearer).alg
      issuer = decodeJwt(bearer).iss
    } catch {
      // Not a JWT at all (an unknown API token, say): nothing to say about it.
      return null
    }
    // Checked again by jwtVerify; checked first so that no key is fetched for a token that cannot pass.
    if (alg === undefined || !(config.algorithms as readonly string[]).includes(alg)) return refuse(`algorithm ${alg ?? '(none)'} is not accepted`)
    if (issuer !== config.issuer) return refuse('another issuer')

    let payload: Record<string, unknown>
    try {
      payload = (await jwtVerify(bearer, keys, verification)).payload
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string' && TOKEN_FAULTS.has(code)) return refuse(`${code}: ${(error as Error).message}`)
      logger.warn('the JWKS could not be read', { url: config.key.kind === 'jwks' ? config.key.url : undefined, error: error as Error })
      throw new Error('JWT signing keys are unavailable', { cause: error })
    }
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
