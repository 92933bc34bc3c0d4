import type { SendMailOptions } from 'nodemailer'
import { keyHash } from '../keys.ts'
import type { Mailer } from '../ports.ts'

/** The right-hand side of our Message-IDs. */
export const MESSAGE_ID_DOMAIN = 'order-ops-gateway'

/** Hex characters of the key's hash in a Message-ID (128 bits). */
const MESSAGE_ID_HASH_LENGTH = 32

/**
 * The Message-ID of the message sent with `idempotencyKey`: the same for every attempt, so that a
 * message sent twice (an SMTP server that took it before the answer was lost) can be recognised
 * as one by whoever receives it.
 */
export function messageIdFor (idempotencyKey: string): string {
  return `<${keyHash(idempotencyKey).slice(0, MESSAGE_ID_HASH_LENGTH)}@${MESSAGE_ID_DOMAIN}>`
}

/** nodemailer's options for one call to Mailer.send. */
export function mailOptions (from: string, call: Parameters<Mailer['send']>[0]): SendMailOptions {
  return {
    from,
    to: call.to,
    subject: call.subject,
    text: call.text,
    messageId: messageIdFor(call.idempotencyKey),
    attachments: (call.attachments ?? []).map(a => ({ filename: a.filename, content: a.content, contentType: a.contentType }))
  }
}
