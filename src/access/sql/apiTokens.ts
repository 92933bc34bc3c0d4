import type { Query } from '../../platform/db/pool.ts'

export interface ApiTokenRow {
  id: string
  owner: string
  role: string
  /** TOKEN_SOURCE (src/access/tokens.ts). */
  source: string
  created_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
}

const COLUMNS = 'id, owner, role, source, created_at, last_used_at, revoked_at'

export function insertApiToken (id: string, owner: string, role: string, tokenHash: string, source: string): Query {
  return {
    text: `INSERT INTO api_token (id, owner, role, token_hash, source) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (token_hash) DO NOTHING RETURNING ${COLUMNS}`,
    values: [id, owner, role, tokenHash, source]
  }
}

/**
 * ADMIN_TOKEN at start: created if new, marked as ADMIN_TOKEN's if it existed unmarked (a token
 * from before migration 0024), and otherwise left as it is: a revoked one stays revoked. Returns
 * the token as it now is.
 */
export function ensureAdminApiToken (id: string, owner: string, role: string, tokenHash: string, source: string): Query {
  return {
    text: `WITH inserted AS (
        INSERT INTO api_token (id, owner, role, token_hash, source) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (token_hash) DO NOTHING RETURNING ${COLUMNS}
      ), marked AS (
        UPDATE api_token SET source = $5 WHERE token_hash = $4 AND source <> $5 RETURNING ${COLUMNS}
      )
      SELECT * FROM inserted UNION ALL SELECT * FROM marked
      UNION ALL SELECT ${COLUMNS} FROM api_token WHERE token_hash = $4 AND NOT EXISTS (SELECT 1 FROM inserted) AND NOT EXISTS (SELECT 1 FROM marked)`,
    values: [id, owner, role, tokenHash, source]
  }
}

/**
 * Revokes the tokens of `source` created before the token of `tokenHash` (the ADMIN_TOKEN values
 * this one replaces). A newer one is left alone, so that a process still started with an older
 * value (during a rolling deploy) does not retire its successor.
 */
export function retireOlderApiTokens (tokenHash: string, source: string): Query {
  return {
    text: `UPDATE api_token SET revoked_at = now()
      WHERE source = $2 AND revoked_at IS NULL AND token_hash <> $1
        AND created_at < (SELECT created_at FROM api_token WHERE token_hash = $1)
      RETURNING ${COLUMNS}`,
    values: [tokenHash, source]
  }
}

/** Only when no token exists yet: the first start's admin token. Run under an advisory lock. */
export function insertFirstApiToken (id: string, owner: string, role: string, tokenHash: string, source: string): Query {
  return {
    text: `INSERT INTO api_token (id, owner, role, token_hash, source)
      SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM api_token) RETURNING ${COLUMNS}`,
    values: [id, owner, role, tokenHash, source]
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

/** A token by its id, if it is not revoked: who it is now. */
export function selectLiveApiToken (id: string): Query {
  return { text: 'SELECT owner, role FROM api_token WHERE id = $1 AND revoked_at IS NULL', values: [id] }
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
