import { createHmac, randomBytes } from 'node:crypto'

/**
 * How outgoing HTTP calls are signed (docs/bulks.md#webhooks). Two schemes:
 *
 * Standard Webhooks (https://www.standardwebhooks.com), for bulk webhooks, each owner with its own
 * secret (`whsec_<base64 key>`), so that receivers verify with the specification's libraries:
 *
 *   webhook-id: <notification id>                        (the same on every attempt)
 *   webhook-timestamp: 1767225600                        (Unix seconds when this attempt was sent)
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,<…> …]
 *
 * The older scheme, for the ERP export (ERP_WEBHOOK_SECRET) and, while WEBHOOK_SECRET is set, also
 * on bulk webhooks (deprecated):
 *
 *   X-Webhook-Timestamp: 1767225600
 *   X-Signature-256: sha256=<hex HMAC-SHA256(secret, "1767225600." + body)>
 *
 * Either way the timestamp is signed, so a captured request cannot be replayed later under a new one.
 */
export const WEBHOOK_HEADER = Object.freeze({
  ID: 'x-webhook-id',
  EVENT: 'x-webhook-event',
  ATTEMPT: 'x-webhook-attempt',
  TIMESTAMP: 'x-webhook-timestamp',
  SIGNATURE: 'x-signature-256'
} as const)

/** The Standard Webhooks headers. */
export const STANDARD_WEBHOOK_HEADER = Object.freeze({
  ID: 'webhook-id',
  TIMESTAMP: 'webhook-timestamp',
  SIGNATURE: 'webhook-signature'
} as const)

const PREFIX = 'sha256='
/** Standard Webhooks' secret prefix; the rest is the HMAC key in base64. */
const SECRET_PREFIX = 'whsec_'
/** The specification asks for keys of 24 to 64 bytes. */
const SECRET_BYTES = 32

/** The older scheme's X-Signature-256 value. */
export function sign (secret: string, timestamp: number, body: string): string {
  return PREFIX + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** A new Standard Webhooks secret: `whsec_` and 256 random bits in base64. */
export function newStandardSecret (): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

/**
 * The `webhook-signature` value: one `v1,<signature>` per secret, space-separated (a receiver accepts
 * the message when any of them verifies, which is how a rotated secret and its successor overlap).
 */
export function standardSignature (secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map(secret => {
    const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
    return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  }).join(' ')
}
