import type { Query } from '../../platform/db/pool.ts'

export interface ApiTokenRow {
  id: string
  owner: string
  role: string
  created_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
}

const COLUMNS = 'id, owner, role, created_at, last_used_at, revoked_at'

export function insertApiToken (id: string, owner: string, role: string, tokenHash: string): Query {
  return {
    text: `INSERT INTO api_token (id, owner, role, token_hash) VALUES ($1, $2, $3, $4)
      ON CONFLICT (token_hash) DO NOTHING RETURNING ${COLUMNS}`,
    values: [id, owner, role, tokenHash]
  }
}

/** ADMIN_TOKEN at start: created, or made an active admin token again if it had been revoked. */
export function ensureApiToken (id: string, owner: string, role: string, tokenHash: string): Query {
  return {
    text: `INSERT INTO api_token (id, owner, role, token_hash) VALUES ($1, $2, $3, $4)
      ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL, role = EXCLUDED.role RETURNING ${COLUMNS}`,
    values: [id, owner, role, tokenHash]
  }
}

/** Only when no token exists yet: the first start's admin token. Run under an advisory lock. */
export function insertFirstApiToken (id: string, owner: string, role: string, tokenHash: string): Query {
  return {
    text: `INSERT INTO api_token (id, owner, role, token_hash)
      SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM api_token) RETURNING ${COLUMNS}`,
    values: [id, owner, role, tokenHash]
  }
}

/** A live token by its hash; marks it used, at most once a minute (no hot row per request). */
export function useApiToken (tokenHash: string): Query {
  return {
    name: 'use-api-token',
    text: `WITH found AS (
        SELECT id FROM api_token WHERE token_hash = $1 AND revoked_at IS NULL
      ), touched AS (
        UPDATE api_token t SET last_used_at = now() FROM found
        WHERE t.id = found.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
      )
      SELECT ${COLUMNS} FROM api_token WHERE id = (SELECT id FROM found)`,
    values: [tokenHash]
  }
}

export function selectApiTokens (): Query {
  return { text: `SELECT ${COLUMNS} FROM api_token ORDER BY created_at, id`, values: [] }
}

export function revokeApiToken (id: string): Query {
  return {
    text: `UPDATE api_token SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
    values: [id]
  }
}

export function countApiTokens (): Query {
  return { text: 'SELECT count(*)::int AS n FROM api_token', values: [] }
}
