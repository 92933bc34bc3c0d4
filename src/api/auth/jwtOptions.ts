/** How JWTs are verified (src/api/auth/jwt.ts); each read from the variable named in its line. */
export interface JwtConfig {
  /** `JWT_ISSUER`: the `iss` every accepted token carries, exactly. */
  readonly issuer: string
  /** `JWT_AUDIENCE`: the `aud` every accepted token carries (alone or in its list). */
  readonly audience: string
  /**
   * The keys: `JWT_SECRET`, an HMAC key shared with the issuer (32 characters or more), or
   * `JWT_JWKS_URL`, the issuer's public keys (https, or http on a loopback address only), with
   * `JWT_JWKS_COOLDOWN_SECONDS`, default 30 (0 to 3600): a token whose `kid` is not in the fetched
   * set makes the gateway fetch it again only if the last fetch is older than this; else it is
   * refused at once. A key the issuer adds is so picked up within this time.
   */
  readonly key: { readonly kind: 'secret', readonly secret: string } | { readonly kind: 'jwks', readonly url: string, readonly cooldownSeconds: number }
  /** `JWT_ALGORITHMS`, comma-separated: default `HS256` with a secret, `RS256` with a JWKS; never `none`. */
  readonly algorithms: readonly JwtAlgorithm[]
  /** `JWT_ROLE_CLAIM`, default `role`: the claim naming the role, `customer`, `integration` or `admin` (missing or other: customer). */
  readonly roleClaim: string
}

/**
 * The algorithms each kind of key may verify: a secret only HMAC ones, a JWKS only public-key ones,
 * so that a token signed with a public key used as an HMAC secret never passes (algorithm confusion).
 */
export const JWT_ALGORITHMS = Object.freeze({
  secret: ['HS256', 'HS384', 'HS512'],
  jwks: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']
} as const)
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[keyof typeof JWT_ALGORITHMS][number]
