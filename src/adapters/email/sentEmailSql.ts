import type { Query } from '../../platform/db/pool.ts'

/** The Message-ID an email with this key was sent with, if it was (migrations/0013). */
export function selectSentEmail (idempotencyKey: string): Query {
  return { text: 'SELECT message_id FROM sent_email WHERE idempotency_key = $1', values: [idempotencyKey] }
}

/** Records that the SMTP server accepted the email with this key. */
export function insertSentEmail (idempotencyKey: string, messageId: string): Query {
  return {
    text: 'INSERT INTO sent_email (idempotency_key, message_id) VALUES ($1, $2) ON CONFLICT (idempotency_key) DO NOTHING',
    values: [idempotencyKey, messageId]
  }
}
