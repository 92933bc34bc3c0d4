import type { Query } from '../../platform/db/pool.ts'

/** What signs an owner's webhooks now (migrations/0016): the current secret, and the replaced one while it is still valid. */
export interface SigningSecretsRow {
  secret: string
  /** Null once its grace period after a rotation has ended. */
  previous_secret: string | null
}

export interface WebhookSecretRow {
  owner: string
  secret: string
  created_at: Date
  previous_expires_at: Date | null
}

export function selectSigningSecrets (owner: string): Query {
  return {
    name: 'webhook-signing-secrets',
    text: `SELECT secret, CASE WHEN previous_expires_at > now() THEN previous_secret END AS previous_secret
      FROM webhook_secret WHERE owner = $1`,
    values: [owner]
  }
}

/** The owner's first secret, unless it has one already (then nothing: read it with selectSigningSecrets). */
export function insertWebhookSecret (owner: string, secret: string): Query {
  return {
    text: 'INSERT INTO webhook_secret (owner, secret) VALUES ($1, $2) ON CONFLICT (owner) DO NOTHING',
    values: [owner, secret]
  }
}

/**
 * A new secret for the owner. The one it replaces keeps signing for `previousValidHours` (0: not at
 * all); a previous secret still in its grace period is dropped, as only the latest two sign.
 */
export function rotateWebhookSecret (owner: string, secret: string, previousValidHours: number): Query {
  return {
    text: `INSERT INTO webhook_secret AS w (owner, secret) VALUES ($1, $2)
      ON CONFLICT (owner) DO UPDATE SET
        secret = EXCLUDED.secret,
        created_at = now(),
        previous_secret = CASE WHEN $3::int > 0 THEN w.secret END,
        previous_expires_at = CASE WHEN $3::int > 0 THEN now() + make_interval(hours => $3::int) END
      RETURNING owner, secret, created_at, previous_expires_at`,
    values: [owner, secret, previousValidHours]
  }
}
