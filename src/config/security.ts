import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtConfig } from '../api/auth/jwtOptions.ts'
import type { LimitsConfig } from '../api/security/options.ts'
import { ConfigError } from '../platform/configError.ts'
import { flag, integer, type Env } from './env.ts'

const MIB = 1024 * 1024

export function limits (env: Env): LimitsConfig {
  // Secure by default in production: no schema tour for strangers (issue 5).
  const development = env.NODE_ENV?.trim() !== 'production'
  return Object.freeze({
    maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 1000),
    maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 10_000),
    maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 20, 0, 10_000),
    maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 2000, 10, 1_000_000),
    maxCost: integer(env, 'GRAPHQL_MAX_COST', 100_000, 1, 1_000_000_000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 64 * MIB, 1024, 4096 * MIB),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 256 * MIB, 1024, 4096 * MIB),
    maxJsonlLineBytes: integer(env, 'MAX_JSONL_LINE_BYTES', MIB, 1024, 1024 * MIB),
    uploadTimeoutSeconds: integer(env, 'UPLOAD_TIMEOUT_SECONDS', 300, 1, 86_400),
    batching: integer(env, 'GRAPHQL_BATCHING', 0, 0, 1000),
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', development),
    graphiql: flag(env, 'GRAPHIQL', development),
    wsMaxMessageBytes: integer(env, 'WS_MAX_MESSAGE_BYTES', MIB, 1024, 1024 * MIB),
    wsMaxSubscriptions: integer(env, 'WS_MAX_SUBSCRIPTIONS', 100, 1, 100_000),
    wsIdleTimeoutSeconds: integer(env, 'WS_IDLE_TIMEOUT_SECONDS', 60, 0, 86_400),
    wsKeepAliveSeconds: integer(env, 'WS_KEEPALIVE_SECONDS', 12, 0, 86_400),
    rateLimitPerWindow: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 100_000_000),
    rateLimitWindowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400)
  })
}

/** JWT settings are all or nothing: a half-configured set stops the process instead of refusing every JWT quietly. */
export function jwt (env: Env): JwtConfig | undefined {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined
  const issuer = value('JWT_ISSUER')
  if (issuer === undefined) {
    const set = ['JWT_AUDIENCE', 'JWT_SECRET', 'JWT_JWKS_URL', 'JWT_JWKS_COOLDOWN_SECONDS', 'JWT_ALGORITHMS', 'JWT_ROLE_CLAIM'].filter(name => value(name) !== undefined)
    if (set.length > 0) throw new ConfigError(`${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but JWT_ISSUER is not: set JWT_ISSUER (the iss of the tokens to accept) or unset ${set.length > 1 ? 'them' : 'it'}`)
    return undefined
  }
  const audience = value('JWT_AUDIENCE')
  if (audience === undefined) throw new ConfigError('JWT_AUDIENCE must be set with JWT_ISSUER: the aud the tokens to accept are issued for')
  // The secret is used as given, spaces and all: trimming it would make it another key.
  const secret = env.JWT_SECRET === '' ? undefined : env.JWT_SECRET
  const jwksUrl = value('JWT_JWKS_URL')
  if ((secret === undefined) === (jwksUrl === undefined)) {
    throw new ConfigError(`set exactly one of JWT_SECRET (an HMAC key shared with the issuer) and JWT_JWKS_URL (the issuer's public keys) with JWT_ISSUER, got ${secret === undefined ? 'neither' : 'both'}`)
  }
  let key: JwtConfig['key']
  if (secret !== undefined) {
    if (value('JWT_JWKS_COOLDOWN_SECONDS') !== undefined) throw new ConfigError('JWT_JWKS_COOLDOWN_SECONDS applies to JWT_JWKS_URL only: unset it with JWT_SECRET')
    if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters (use a random value, e.g. openssl rand -hex 32)')
    key = { kind: 'secret', secret }
  } else {
    let url: URL | undefined
    try {
      url = new URL(jwksUrl!)
    } catch {}
    // Keys fetched over plain http could be swapped on the way, and with them every identity.
    const loopback = url !== undefined && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname)
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
      throw new ConfigError(`JWT_JWKS_URL must be an https URL such as https://issuer.example.com/.well-known/jwks.json (http only on a loopback address), got "${jwksUrl!}"`)
    }
    key = { kind: 'jwks', url: url.toString(), cooldownSeconds: integer(env, 'JWT_JWKS_COOLDOWN_SECONDS', 30, 0, 3600) }
  }
  const allowed: readonly JwtAlgorithm[] = JWT_ALGORITHMS[key.kind]
  const algorithms = (value('JWT_ALGORITHMS') ?? allowed[0]!).split(',').map(name => name.trim()).filter(name => name !== '')
  if (algorithms.length === 0) throw new ConfigError(`JWT_ALGORITHMS must name at least one of ${allowed.join(', ')}`)
  for (const name of algorithms) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new ConfigError(`JWT_ALGORITHMS with ${key.kind === 'secret' ? 'JWT_SECRET' : 'JWT_JWKS_URL'} must be among ${allowed.join(', ')}, got "${name}"${name.toLowerCase() === 'none' ? ' (unsigned tokens are never accepted)' : ''}`)
    }
  }
  return Object.freeze({
    issuer,
    audience,
    key: Object.freeze(key),
    algorithms: Object.freeze(algorithms as JwtAlgorithm[]),
    roleClaim: value('JWT_ROLE_CLAIM') ?? 'role'
  })
}
