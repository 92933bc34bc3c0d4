import { createHmac } from 'node:crypto'

/**
 * How webhooks are signed (docs/bulks.md). The signed text is `<timestamp>.<raw body>`, so a
 * captured request cannot be replayed later with a new timestamp:
 *
 *   X-Webhook-Timestamp: 1767225600                      (Unix seconds when this attempt was sent)
 *   X-Signature-256: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "1767225600." + body)>
 *
 * A receiver recomputes the HMAC over the body exactly as received, compares in constant time,
 * and refuses timestamps too far from its clock. X-Webhook-Id is the same for every attempt of one
 * notification, for receivers to drop repeats (delivery is at least once).
 */
export const WEBHOOK_HEADER = Object.freeze({
  ID: 'x-webhook-id',
  EVENT: 'x-webhook-event',
  ATTEMPT: 'x-webhook-attempt',
  TIMESTAMP: 'x-webhook-timestamp',
  SIGNATURE: 'x-signature-256'
} as const)

const PREFIX = 'sha256='

export function sign (secret: string, timestamp: number, body: string): string {
  return PREFIX + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}
