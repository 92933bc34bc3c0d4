import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type pg from 'pg'
import { run, transaction, type Db } from '../platform/db/pool.ts'
import type { Logger } from '../platform/log.ts'
import { ADMIN_OWNER, ROLE, type Principal, type Role } from './principal.ts'
import {
  countApiTokens, ensureAdminApiToken, insertApiToken, insertFirstApiToken, retireOlderApiTokens, revokeApiToken, selectApiTokens, useApiToken,
  type ApiTokenRow
} from './sql/apiTokens.ts'

/** Tokens look like `oog_<43 base64url characters>`: 256 random bits, recognisable in logs and secret scanners. */
const PREFIX = 'oog_'
/** Any fixed number: the lock under which a start creates its admin token (the first start's, or ADMIN_TOKEN's). */
const BOOTSTRAP_LOCK = 7_300_417_002

/** Where a token came from (mirrored in api_token.source, migrations/0024). */
export const TOKEN_SOURCE = Object.freeze({
  /** createApiToken over GraphQL, or `npm run token -- create`. */
  ISSUED: 'issued',
  /** The ADMIN_TOKEN variable of a process's start. */
  ADMIN_TOKEN: 'admin_token',
  /** Printed once by the first start of the embedded default. */
  FIRST_START: 'first_start'
} as const)

export function hashToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function newToken (): string {
  return PREFIX + randomBytes(32).toString('base64url')
}

export interface CreatedToken { readonly row: ApiTokenRow, readonly token: string }

/** Creates a token; the secret is returned here only, and stored as its hash. */
export async function createApiToken (db: Db, owner: string, role: Role): Promise<CreatedToken> {
  const token = newToken()
  const [row] = await run<ApiTokenRow>(db, insertApiToken(randomUUID(), owner, role, hashToken(token), TOKEN_SOURCE.ISSUED))
  return { row: row!, token }
}

export async function listApiTokens (db: Db): Promise<ApiTokenRow[]> {
  return await run<ApiTokenRow>(db, selectApiTokens())
}

export async function revokeApiTokenById (db: Db, id: string): Promise<ApiTokenRow | null> {
  const [row] = await run<ApiTokenRow>(db, revokeApiToken(id))
  return row ?? null
}

/** The principal of a bearer token, or null when it is unknown or revoked. */
export async function authenticateToken (db: Db, token: string): Promise<Principal | null> {
  if (token.length < 16 || token.length > 200) return null
  const [row] = await run<ApiTokenRow>(db, useApiToken(hashToken(token)))
  if (!row) return null
  return { owner: row.owner, role: row.role as Role, via: { kind: 'token', tokenId: row.id }, rateLimitKey: `token:${row.id}` }
}

/**
 * At start: `ADMIN_TOKEN`, when set, is ensured as an admin token (for deployments and scripts).
 * Without it, on a database with no token at all, `bootstrap` (the embedded default) creates an
 * admin token and returns it to be shown once; otherwise the API stays closed and a warning says
 * how to open it. Processes starting together create at most one.
 */
export async function ensureAdminToken (pool: pg.Pool, adminToken: string | undefined, bootstrap: boolean, log: Logger): Promise<string | undefined> {
  if (adminToken !== undefined) {
    await ensureAdminTokenOf(pool, adminToken, log)
    return undefined
  }
  if (!bootstrap) {
    const [count] = await run<{ n: number }>(pool, countApiTokens())
    if (count?.n === 0) log.warn('no API token exists, so every request is refused: create one with `npm run --silent token -- create --owner <name> --role admin`, or set ADMIN_TOKEN')
    return undefined
  }
  const token = newToken()
  const created = await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK])
    return await run<ApiTokenRow>(client, insertFirstApiToken(randomUUID(), ADMIN_OWNER, ROLE.ADMIN, hashToken(token), TOKEN_SOURCE.FIRST_START))
  })
  return created.length > 0 ? token : undefined
}

/**
 * ADMIN_TOKEN's token, created the first time a start sets this value (issue 12, item 7). Once it
 * is revoked it stays revoked: a start never makes it active again, and a warning says to set a
 * new value. A new value retires the ADMIN_TOKEN values created before it, so changing the
 * variable retires the old token; an older value set again (a process of a rolling deploy) retires
 * nothing newer, and is refused itself once a newer one has retired it.
 */
async function ensureAdminTokenOf (pool: pg.Pool, adminToken: string, log: Logger): Promise<void> {
  const hash = hashToken(adminToken)
  const { token, retired } = await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK])
    const [ensured] = await run<ApiTokenRow>(client, ensureAdminApiToken(randomUUID(), ADMIN_OWNER, ROLE.ADMIN, hash, TOKEN_SOURCE.ADMIN_TOKEN))
    return { token: ensured!, retired: await run<ApiTokenRow>(client, retireOlderApiTokens(hash, TOKEN_SOURCE.ADMIN_TOKEN)) }
  })
  if (retired.length > 0) log.info('ADMIN_TOKEN changed: the previous value is revoked', { revoked: retired.map(row => row.id).join(',') })
  if (token.revoked_at !== null) {
    log.warn('ADMIN_TOKEN is revoked, so requests with it are refused: set a new value (e.g. openssl rand -hex 32)', { id: token.id })
  }
}
